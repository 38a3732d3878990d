// Colour in the CLI's human output: status words painted (failed red, succeeded green, in
// progress/pending yellow) when the output is a terminal. --color=auto (the default) colours only
// when stdout is a terminal, NO_COLOR is unset and TERM is not "dumb"; --color=always|never force
// it.
#pragma once

#include <string>
#include <string_view>

namespace octolaunch::cli {

// mode: "auto", "always" or "never"; toTerminal: the output is a terminal.
bool colourWanted(std::string_view mode, bool toTerminal);

// text wrapped in the ANSI colour of the status word it starts with ("failed", "partially_failed",
// "succeeded", "in_progress", ...); unchanged when on is false or the word has no colour.
std::string paintStatus(const std::string& text, bool on);

}  // namespace octolaunch::cli
