#include "agent/redact/redactor.h"

#include <re2/re2.h>

#include <stdexcept>

namespace octolaunch::agent {

namespace {

std::unique_ptr<re2::RE2> compile(std::string_view pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(re2::RE2::Options::EncodingLatin1);  // lines may hold escaped non-UTF-8
  return std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
}

std::unique_ptr<re2::RE2> compileBuiltIn(const char* pattern) {
  auto re = compile(pattern);
  if (!re->ok()) throw std::logic_error(std::string("redaction pattern: ") + re->error());
  return re;
}

// Words that name a secret when they are (part of) a key.
#define OCTOLAUNCH_SECRET_KEY                                                                \
  "(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|" \
  "credentials?)"

// Replaces every match of `re` (its first capture group when it has one) with "***".
bool maskMatches(std::string& line, const re2::RE2& re) {
  const int group = re.NumberOfCapturingGroups() > 0 ? 1 : 0;
  re2::StringPiece input(line);
  re2::StringPiece found[2];
  std::string out;
  std::size_t copied = 0;  // line[0, copied) is in out
  std::size_t pos = 0;
  bool changed = false;
  while (pos <= line.size() &&
         re.Match(input, pos, line.size(), re2::RE2::UNANCHORED, found, group + 1)) {
    std::size_t matchEnd =
        static_cast<std::size_t>(found[0].data() - line.data()) + found[0].size();
    const re2::StringPiece& secret = found[group];
    if (secret.data() != nullptr && !secret.empty()) {
      std::size_t start = static_cast<std::size_t>(secret.data() - line.data());
      out.append(line, copied, start - copied);
      out += "***";
      copied = start + secret.size();
      changed = true;
    }
    pos = matchEnd > pos ? matchEnd : pos + 1;  // an empty match moves on by one
  }
  if (!changed) return false;
  out.append(line, copied, std::string::npos);
  line.swap(out);
  return true;
}

}  // namespace

Redactor::Redactor(const std::vector<std::string>& extraPatterns)
    : trigger_(compileBuiltIn(
          "(?i)pass|pwd|secret|token|key|auth|bearer|cookie|credential|://|-----|"
          "akia|asia|aroa|aida|gh[pousr]_|github_pat_|glpat-|xox[abposr]-|npm_|pypi-|[sr]k_|"
          "aiza|eyj")),
      // password=x, "api_key": "x", X-Api-Key: x, aws_secret_access_key = x, ?token=x&
      keyValue_(
          compileBuiltIn("(?i)([a-z0-9_.-]*" OCTOLAUNCH_SECRET_KEY
                         "[a-z0-9_.-]*[\"']?\\s*[:=]\\s*)(?:\"[^\"]*\"?|'[^']*'?|[^\\s\"'&;,]+)")),
      // --password x, -token x
      flagValue_(compileBuiltIn("(?i)(\\s--?[a-z0-9-]*" OCTOLAUNCH_SECRET_KEY
                                "[a-z0-9-]*\\s+)([^\\s-]\\S*)")),
      // Authorization: <any scheme> <credentials>, up to the end of the value; Proxy-Authorization
      // too.
      authorization_(compileBuiltIn("(?i)(authorization[\"']?\\s*[:=]\\s*[\"']?"
                                    "(?:[a-z][a-z0-9_.-]*\\s+)?)[^\"'\\r\\n]+")),
      bearer_(compileBuiltIn("(?i)(\\bbearer\\s+)[A-Za-z0-9._~+/=-]{8,}")),
      cookie_(compileBuiltIn("(?i)(\\b(?:set-)?cookie\\s*:\\s*)\\S.*")),
      // AWS_SECRET_ACCESS_KEY wJalr... (no '=' between, as a table or a help text prints it)
      awsSecretKey_(compileBuiltIn(
          "(?i)(aws_?secret_?(?:access_?)?key[\"']?\\s*[:=]?\\s*[\"']?)[A-Za-z0-9/+=]{40,}")),
      // Tokens recognisable on their own.
      tokens_(compileBuiltIn("\\b(?:AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\\b"
                             "|\\bgh[pousr]_[A-Za-z0-9]{20,}"
                             "|\\bgithub_pat_[A-Za-z0-9_]{20,}"
                             "|\\bglpat-[A-Za-z0-9_-]{20,}"
                             "|\\bxox[abposr]-[A-Za-z0-9-]{10,}"
                             "|\\bnpm_[A-Za-z0-9]{30,}"
                             "|\\bpypi-AgE[A-Za-z0-9_-]{20,}"
                             "|\\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}"
                             "|\\bAIza[0-9A-Za-z_-]{30,}"
                             "|\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*")),
      urlPassword_(compileBuiltIn("([a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s:@]*:)[^/\\s]+(@)")),
      pemWhole_(compileBuiltIn("(-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----).*?"
                               "(-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----)")),
      pemBegin_(compileBuiltIn("(-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----).*")),
      pemEnd_(compileBuiltIn(".*?(-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----)")) {
  for (const auto& pattern : extraPatterns) {
    auto re = compile(pattern);
    if (!re->ok()) {
      throw std::invalid_argument("redaction pattern \"" + pattern + "\": " + re->error());
    }
    extra_.push_back(std::move(re));
  }
}

Redactor::~Redactor() = default;

bool Redactor::redact(std::string& line, RedactState& state) const {
  bool changed = redactBuiltIn(line, state);
  if (!extra_.empty() && redactExtra(line)) changed = true;
  return changed;
}

bool Redactor::redactBuiltIn(std::string& line, RedactState& state) const {
  bool changed = false;
  if (state.inPrivateKey) {
    if (re2::RE2::Replace(&line, *pemEnd_, "***\\1")) {
      state.inPrivateKey = false;
      changed = true;
    } else {
      if (!line.empty()) line = "***";
      return true;
    }
  }
  if (!re2::RE2::PartialMatch(line, *trigger_)) return changed;
  if (re2::RE2::GlobalReplace(&line, *pemWhole_, "\\1***\\2") > 0) {
    changed = true;
  } else if (re2::RE2::Replace(&line, *pemBegin_, "\\1***")) {
    state.inPrivateKey = true;
    changed = true;
  }
  if (re2::RE2::GlobalReplace(&line, *urlPassword_, "\\1***\\2") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *authorization_, "\\1***") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *bearer_, "\\1***") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *cookie_, "\\1***") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *awsSecretKey_, "\\1***") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *keyValue_, "\\1***") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *flagValue_, "\\1***") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *tokens_, "***") > 0) changed = true;
  return changed;
}

bool Redactor::redactExtra(std::string& line) const {
  bool changed = false;
  for (const auto& re : extra_) {
    if (maskMatches(line, *re)) changed = true;
  }
  return changed;
}

std::string Redactor::redacted(std::string_view line) const {
  std::string out(line);
  RedactState state;
  redact(out, state);
  return out;
}

}  // namespace octolaunch::agent
