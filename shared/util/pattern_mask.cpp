#include "shared/util/pattern_mask.h"

namespace octolaunch {

re2::RE2::Options maskPatternOptions() {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(re2::RE2::Options::EncodingLatin1);
  return options;
}

std::unique_ptr<re2::RE2> compileMaskPattern(std::string_view pattern) {
  return std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                    maskPatternOptions());
}

bool maskMatches(std::string& text, const re2::RE2& re) {
  const int group = re.NumberOfCapturingGroups() > 0 ? 1 : 0;
  re2::StringPiece input(text);
  re2::StringPiece found[2];
  std::string out;
  std::size_t copied = 0;  // text[0, copied) is in out
  std::size_t pos = 0;
  bool changed = false;
  while (pos <= text.size() &&
         re.Match(input, pos, text.size(), re2::RE2::UNANCHORED, found, group + 1)) {
    std::size_t matchEnd =
        static_cast<std::size_t>(found[0].data() - text.data()) + found[0].size();
    const re2::StringPiece& secret = found[group];
    if (secret.data() != nullptr && !secret.empty()) {
      std::size_t start = static_cast<std::size_t>(secret.data() - text.data());
      out.append(text, copied, start - copied);
      out += "***";
      copied = start + secret.size();
      changed = true;
    }
    pos = matchEnd > pos ? matchEnd : pos + 1;  // an empty match moves on by one
  }
  if (!changed) return false;
  out.append(text, copied, std::string::npos);
  text.swap(out);
  return true;
}

}  // namespace octolaunch
