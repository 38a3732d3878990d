#include "agent/redact/redactor.h"

#include <re2/re2.h>

#include <cstring>
#include <stdexcept>

namespace octolaunch::agent {

namespace {

std::unique_ptr<re2::RE2> compile(const char* pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(re2::RE2::Options::EncodingLatin1);  // lines may hold escaped non-UTF-8
  auto re = std::make_unique<re2::RE2>(pattern, options);
  if (!re->ok()) throw std::logic_error(std::string("redaction pattern: ") + re->error());
  return re;
}

// Words that name a secret when they are (part of) a key.
#define OCTOLAUNCH_SECRET_KEY \
  "(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)"

// Cheap necessary condition for any pattern below to match, checked before RE2 runs: every
// pattern needs ':', '=', '-' or '@' somewhere, except "Bearer <token>" and AWS key ids.
bool mayHoldSecret(std::string_view line) {
  const char* p = line.data();
  std::size_t n = line.size();
  for (char c : {':', '=', '-', '@'}) {
    if (std::memchr(p, c, n) != nullptr) return true;
  }
  for (std::size_t i = 0; i + 4 <= n; ++i) {
    char c = p[i];
    if (c == 'A' && i + 20 <= n) {
      std::string_view next(p + i + 1, 3);
      if (next == "KIA" || next == "SIA" || next == "ROA" || next == "IDA") return true;
    } else if ((c == 'b' || c == 'B') && i + 6 <= n) {
      bool bearer = true;
      for (int k = 1; k < 6 && bearer; ++k) bearer = (p[i + k] | 0x20) == "bearer"[k];
      if (bearer) return true;
    }
  }
  return false;
}

}  // namespace

Redactor::Redactor()
    : trigger_(compile(
          "(?i)pass|pwd|secret|token|key|auth|bearer|cookie|AKIA|ASIA|://|-----|credential")),
      // password=x, "api_key": "x", X-Api-Key: x, aws_secret_access_key = x, ?token=x&
      keyValue_(compile("(?i)([a-z0-9_.-]*" OCTOLAUNCH_SECRET_KEY
                        "[a-z0-9_.-]*[\"']?\\s*[:=]\\s*)(?:\"[^\"]*\"?|'[^']*'?|[^\\s\"'&;,]+)")),
      // --password x, -token x
      flagValue_(
          compile("(?i)(\\s--?[a-z0-9-]*" OCTOLAUNCH_SECRET_KEY "[a-z0-9-]*\\s+)([^\\s-]\\S*)")),
      // Authorization: Bearer x / Basic x / x ; Proxy-Authorization too
      authorization_(compile("(?i)(authorization[\"']?\\s*[:=]\\s*[\"']?(?:(?:bearer|basic|digest|"
                             "token|negotiate)\\s+)?)[^\\s\"',]+")),
      bearer_(compile("(?i)(\\bbearer\\s+)[A-Za-z0-9._~+/=-]{8,}")),
      cookie_(compile("(?i)(\\b(?:set-)?cookie\\s*:\\s*)\\S.*")),
      awsKeyId_(compile("\\b(?:AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\\b")),
      urlPassword_(compile("([a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s:@]*:)[^/\\s@]+(@)")),
      pemWhole_(
          compile("(-----BEGIN [A-Z ]*PRIVATE KEY-----).*?(-----END [A-Z ]*PRIVATE KEY-----)")),
      pemBegin_(compile("(-----BEGIN [A-Z ]*PRIVATE KEY-----).*")),
      pemEnd_(compile(".*?(-----END [A-Z ]*PRIVATE KEY-----)")) {}

Redactor::~Redactor() = default;

bool Redactor::redact(std::string& line, RedactState& state) const {
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
  if (!mayHoldSecret(line) || !re2::RE2::PartialMatch(line, *trigger_)) return changed;
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
  if (re2::RE2::GlobalReplace(&line, *keyValue_, "\\1***") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *flagValue_, "\\1***") > 0) changed = true;
  if (re2::RE2::GlobalReplace(&line, *awsKeyId_, "***") > 0) changed = true;
  return changed;
}

std::string Redactor::redacted(std::string_view line) const {
  std::string out(line);
  RedactState state;
  redact(out, state);
  return out;
}

}  // namespace octolaunch::agent
