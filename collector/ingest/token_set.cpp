#include "collector/ingest/token_set.h"

namespace octolaunch::ingest {

bool constantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = a.size();
  for (std::size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool TokenSet::accepts(std::string_view token) const {
  bool ok = false;
  for (const std::string& t : tokens_) ok |= constantTimeEquals(token, t);
  return ok;
}

}  // namespace octolaunch::ingest
