// Masks secrets in a line of output before it is spooled: the value after password=, secret:,
// token=, api_key..., the credential of "Authorization: Bearer|Basic ...", cookies, AWS access key
// ids (AKIA.../ASIA...), the password of a URL's user:password@, and the body of a PEM private key.
// Each masked value becomes "***".
//
// Contract
//  * RE2 only: time linear in the line length, whatever the input (no backtracking blow-ups).
//  * Lines without a trigger word (the vast majority) are left untouched after one cheap scan
//    (a few memchr for the characters the patterns need, then one RE2 pass for trigger words).
//  * PEM keys span lines: the per-stream RedactState remembers that a
//    "-----BEGIN ... PRIVATE KEY-----" was seen, and every line up to the END line is masked.
//  * Over-masking is preferred to leaking: a key name that merely contains "token" or "secret"
//    has its value masked.
// Threads: a Redactor is immutable after construction; any thread may use it. A RedactState
// belongs to one stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace octolaunch::agent {

struct RedactState {
  bool inPrivateKey = false;
};

class Redactor final {
 public:
  Redactor();
  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // Masks secrets in `line` in place; returns true when anything was masked.
  bool redact(std::string& line, RedactState& state) const;
  // Convenience for one-off text (a command line): a fresh state per call.
  std::string redacted(std::string_view line) const;

 private:
  std::unique_ptr<re2::RE2> trigger_;
  std::unique_ptr<re2::RE2> keyValue_;
  std::unique_ptr<re2::RE2> flagValue_;
  std::unique_ptr<re2::RE2> authorization_;
  std::unique_ptr<re2::RE2> bearer_;
  std::unique_ptr<re2::RE2> cookie_;
  std::unique_ptr<re2::RE2> awsKeyId_;
  std::unique_ptr<re2::RE2> urlPassword_;
  std::unique_ptr<re2::RE2> pemWhole_;
  std::unique_ptr<re2::RE2> pemBegin_;
  std::unique_ptr<re2::RE2> pemEnd_;
};

}  // namespace octolaunch::agent
