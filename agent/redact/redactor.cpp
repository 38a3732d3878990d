#include "agent/redact/redactor.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <stdexcept>

#include "shared/util/pattern_mask.h"

namespace octolaunch::agent {

namespace {

std::unique_ptr<re2::RE2> compileBuiltIn(const char* pattern) {
  auto re = compileMaskPattern(pattern);
  if (!re->ok()) throw std::logic_error(std::string("redaction pattern: ") + re->error());
  return re;
}

// Words that name a secret when they are (part of) a key.
#define OCTOLAUNCH_SECRET_KEY                                                                \
  "(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|" \
  "credentials?)"

// A built-in rule: every match of `re` is rewritten (a capture group keeps the part that names
// the secret).
struct Rule {
  std::unique_ptr<re2::RE2> re;
  const char* rewrite;
};

}  // namespace

struct Redactor::Patterns {
  // The start of a private key (index 0: it goes first, before a rule could mask its marker) and
  // the one-line rules (index i + 1 for rules[i]), applied in this order; `candidates` holds
  // them all, to find in one pass which of them may apply.
  std::vector<Rule> rules;
  re2::RE2::Set candidates{maskPatternOptions(), re2::RE2::UNANCHORED};
  std::unique_ptr<re2::RE2> pemWhole;
  std::unique_ptr<re2::RE2> pemBegin;
  std::unique_ptr<re2::RE2> pemEnd;
  std::vector<std::unique_ptr<re2::RE2>> extra;
};

Redactor::Redactor(const std::vector<std::string>& extraPatterns)
    : patterns_([&extraPatterns] {
        auto p = std::make_unique<Patterns>();
        const char* pemBegin = "(-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----).*";
        std::string error;
        if (p->candidates.Add(pemBegin, &error) != 0) {
          throw std::logic_error("redaction pattern: " + error);
        }
        auto add = [&p, &error](const char* pattern, const char* rewrite) {
          p->rules.push_back({compileBuiltIn(pattern), rewrite});
          if (p->candidates.Add(pattern, &error) != static_cast<int>(p->rules.size())) {
            throw std::logic_error("redaction pattern: " + error);
          }
        };
        add("([a-zA-Z][a-zA-Z0-9+.-]*://[^/\\s:@]*:)[^/\\s]+(@)", "\\1***\\2");  // URL password
        // Authorization: <any scheme> <credentials>, up to the end of the value; also
        // Proxy-Authorization.
        add("(?i)(authorization[\"']?\\s*[:=]\\s*[\"']?(?:[a-z][a-z0-9_.-]*\\s+)?)[^\"'\\r\\n]+",
            "\\1***");
        add("(?i)(\\bbearer\\s+)[A-Za-z0-9._~+/=-]{8,}", "\\1***");
        add("(?i)(\\b(?:set-)?cookie\\s*:\\s*)\\S.*", "\\1***");
        // AWS_SECRET_ACCESS_KEY wJalr... (no '=' between, as a table or a help text prints it)
        add("(?i)(aws_?secret_?(?:access_?)?key[\"']?\\s*[:=]?\\s*[\"']?)[A-Za-z0-9/+=]{40,}",
            "\\1***");
        // password=x, "api_key": "x", X-Api-Key: x, aws_secret_access_key = x, ?token=x&
        add("(?i)([a-z0-9_.-]*" OCTOLAUNCH_SECRET_KEY
            "[a-z0-9_.-]*[\"']?\\s*[:=]\\s*)(?:\"[^\"]*\"?|'[^']*'?|[^\\s\"'&;,]+)",
            "\\1***");
        // --password x, -token x
        add("(?i)(\\s--?[a-z0-9-]*" OCTOLAUNCH_SECRET_KEY "[a-z0-9-]*\\s+)([^\\s-]\\S*)", "\\1***");
        // Tokens recognisable on their own.
        add("\\b(?:AKIA|ASIA|AROA|AIDA)[0-9A-Z]{16}\\b"
            "|\\bgh[pousr]_[A-Za-z0-9]{20,}"
            "|\\bgithub_pat_[A-Za-z0-9_]{20,}"
            "|\\bglpat-[A-Za-z0-9_-]{20,}"
            "|\\bxox[abposr]-[A-Za-z0-9-]{10,}"
            "|\\bnpm_[A-Za-z0-9]{30,}"
            "|\\bpypi-AgE[A-Za-z0-9_-]{20,}"
            "|\\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}"
            "|\\bAIza[0-9A-Za-z_-]{30,}"
            "|\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*",
            "***");
        if (!p->candidates.Compile()) throw std::logic_error("redaction patterns: out of memory");
        p->pemWhole = compileBuiltIn(
            "(-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----).*?"
            "(-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----)");
        p->pemBegin = compileBuiltIn(pemBegin);
        p->pemEnd = compileBuiltIn(".*?(-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----)");
        for (const auto& pattern : extraPatterns) {
          auto re = compileMaskPattern(pattern);
          if (!re->ok()) {
            throw std::invalid_argument("redaction pattern \"" + pattern + "\": " + re->error());
          }
          p->extra.push_back(std::move(re));
        }
        return p;
      }()) {}

Redactor::~Redactor() = default;

bool Redactor::redact(std::string& line, RedactState& state) const {
  bool changed = redactBuiltIn(line, state);
  if (!patterns_->extra.empty() && redactExtra(line)) changed = true;
  return changed;
}

bool Redactor::redactBuiltIn(std::string& line, RedactState& state) const {
  const Patterns& p = *patterns_;
  bool changed = false;
  if (state.inPrivateKey) {
    if (re2::RE2::Replace(&line, *p.pemEnd, "***\\1")) {
      state.inPrivateKey = false;
      changed = true;
    } else {
      if (!line.empty()) line = "***";
      return true;
    }
  }
  // One pass finds the rules that may apply; should the set fail (its DFA out of memory), every
  // rule runs.
  thread_local std::vector<int> candidates;
  candidates.clear();
  re2::RE2::Set::ErrorInfo error{};
  if (!p.candidates.Match(line, &candidates, &error)) {
    if (error.kind == re2::RE2::Set::kNoError) return changed;
    candidates.clear();
    for (std::size_t i = 0; i <= p.rules.size(); ++i) candidates.push_back(static_cast<int>(i));
  }
  std::sort(candidates.begin(), candidates.end());
  for (int i : candidates) {
    if (i == 0) {
      if (re2::RE2::GlobalReplace(&line, *p.pemWhole, "\\1***\\2") > 0) {
        changed = true;
      } else if (re2::RE2::Replace(&line, *p.pemBegin, "\\1***")) {
        state.inPrivateKey = true;
        changed = true;
      }
    } else {
      const Rule& rule = p.rules[static_cast<std::size_t>(i) - 1];
      if (re2::RE2::GlobalReplace(&line, *rule.re, rule.rewrite) > 0) changed = true;
    }
  }
  return changed;
}

bool Redactor::redactExtra(std::string& line) const {
  bool changed = false;
  for (const auto& re : patterns_->extra) {
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
