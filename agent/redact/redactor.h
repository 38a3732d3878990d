// Masks secrets in a line of output before it is spooled. Each masked value becomes "***".
//
// What is masked
//  * Values named as secrets: password=x, "api_key": "x", secret: x, token=x, --password x,
//    X-Api-Key: x, aws_secret_access_key = x (also "AWS_SECRET_ACCESS_KEY <40 base64 chars>").
//  * Credentials of "Authorization:" / "Proxy-Authorization:" (any scheme: Bearer, Basic,
//    AWS4-HMAC-SHA256 ...), "Bearer <token>" anywhere, cookies, and the password of a URL's
//    scheme://user:password@.
//  * Tokens recognisable on their own, wherever they appear: AWS access key ids (AKIA..., ASIA...),
//    GitHub (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_), GitLab (glpat-), Slack (xoxb- ...), npm
//    (npm_), PyPI (pypi-AgE...), Stripe (sk_live_, rk_live_, sk_test_ ...), Google API keys
//    (AIza...), JWTs (eyJ... . ... . ...).
//  * PEM private keys: everything from "-----BEGIN ... PRIVATE KEY-----" to the END line, across
//    the lines of one stream (the per-stream RedactState remembers an open key).
//  * Whatever the configured extra patterns match (RE2 syntax): the whole match, or only the first
//    capture group when the pattern has one (to keep a key name visible).
//
// Contract
//  * RE2 only: time linear in the line length, whatever the input (no backtracking blow-ups).
//  * One pass over the line (an RE2::Set of every built-in pattern) finds the patterns that
//    match; only those run. Lines without a secret (the vast majority) cost that one pass plus
//    one per extra pattern.
//  * Over-masking is preferred to leaking: a key name that merely contains "token" or "secret"
//    has its value masked; an unterminated private key masks the rest of its stream.
// Threads: a Redactor is immutable after construction; any thread may use it. A RedactState
// belongs to one stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace octolaunch::agent {

struct RedactState {
  bool inPrivateKey = false;
};

class Redactor final {
 public:
  // Throws std::invalid_argument naming the pattern and RE2's complaint when an extra pattern
  // does not compile.
  explicit Redactor(const std::vector<std::string>& extraPatterns = {});
  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // Masks secrets in `line` in place; returns true when anything was masked.
  bool redact(std::string& line, RedactState& state) const;
  // Convenience for one-off text (a command line, a message): a fresh state per call.
  std::string redacted(std::string_view line) const;

 private:
  struct Patterns;  // the compiled RE2 patterns
  bool redactBuiltIn(std::string& line, RedactState& state) const;
  bool redactExtra(std::string& line) const;

  std::unique_ptr<const Patterns> patterns_;
};

}  // namespace octolaunch::agent
