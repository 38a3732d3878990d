# bash completion for octolaunch and octolaunch-agent (installed under both names).
#
# Subcommands, options and an option's choices are read from the program's own --help (CLI11's
# layout), so a subcommand or option added to a program completes without a change here. After
# `--` (octolaunch-agent hook -- CMD) it completes the command and its arguments.

# The help text of the program (first argument) and subcommand path (the rest).
_octolaunch_help() {
  "$@" --help 2>/dev/null
}

# Subcommand names in a help text on stdin.
_octolaunch_subcommands() {
  sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z0-9-]*\).*/\1/p'
}

# "NAME ARG" for each long option in a help text on stdin; ARG is the value's type with its
# {choices}, or empty for a flag.
_octolaunch_options() {
  sed -n '/^Options:/,/^$/s/^  \(-[A-Za-z0-9],\)\{0,1\}\(--[a-z0-9-]*\) \{0,1\}\([A-Z][A-Z]*\(:{[^}]*}\)\{0,1\}\)\{0,1\}.*/\2 \3/p'
}

_octolaunch() {
  local cur prev words cword
  _init_completion || return

  local program=${words[0]} path=() help i w arg
  help=$(_octolaunch_help "$program")
  # Walk the words before the cursor: subcommands extend the path, an option with a value skips
  # that value.
  for ((i = 1; i < cword; i++)); do
    w=${words[i]}
    if [[ $w == -- ]]; then
      _command_offset $((i + 1))
      return
    fi
    if [[ $w == -* ]]; then
      arg=$(_octolaunch_options <<<"$help" | awk -v o="${w%%=*}" '$1 == o { print $2 }')
      [[ -n $arg && $w != *=* ]] && ((i++))
    elif _octolaunch_subcommands <<<"$help" | grep -qx -- "$w"; then
      path+=("$w")
      help=$(_octolaunch_help "$program" "${path[@]}")
    fi
  done

  if [[ $prev == -* ]]; then
    arg=$(_octolaunch_options <<<"$help" | awk -v o="$prev" '$1 == o { print $2 }')
    if [[ -n $arg ]]; then
      if [[ $arg == *:\{*\} ]]; then
        arg=${arg#*:\{}
        arg=${arg%\}}
        COMPREPLY=($(compgen -W "${arg//,/ }" -- "$cur"))
      else
        case $prev in *-config | *-file | *-dir) _filedir ;; esac
      fi
      return
    fi
  fi

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_octolaunch_options <<<"$help" | awk '{ print $1 }')" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_octolaunch_subcommands <<<"$help")" -- "$cur"))
  fi
}

complete -F _octolaunch octolaunch octolaunch-agent
