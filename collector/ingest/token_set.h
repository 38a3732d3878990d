// The agent tokens the collector accepts in hello(). Immutable after construction; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace octolaunch::ingest {

class TokenSet final {
 public:
  explicit TokenSet(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}
  // True when no token is configured (open mode: main() warns at start) or when token equals
  // one of them. Compares in time independent of where the strings differ.
  bool accepts(std::string_view token) const;
  bool open() const { return tokens_.empty(); }

 private:
  std::vector<std::string> tokens_;
};

}  // namespace octolaunch::ingest
