#include "tests/unit/parse/fixture.h"

#include "agent/parse/text_util.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace octolaunch::parse::test {

std::string fixture(const std::string& relativePath) {
  std::string path = std::string(OCTOLAUNCH_FIXTURES_DIR) + "/" + relativePath;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read fixture " << path;
    return {};
  }
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<OomKill> killsOf(const std::string& relativePath) {
  std::string text = fixture(relativePath);
  auto lines = splitLines(text);
  OomAssembler assembler;
  std::vector<OomKill> kills;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::optional<KernelMessage> m;
    if (!isKmsgContinuationLine(lines[i]) && parseKmsgRecord(lines[i])) {
      std::string record(lines[i]);
      while (i + 1 < lines.size() && isKmsgContinuationLine(lines[i + 1])) {
        record += '\n';
        record += lines[++i];
      }
      m = parseKmsgRecord(record);
    } else {
      m = parseKernelLine(lines[i]);
    }
    if (!m) continue;
    for (auto& k : assembler.feed(*m)) kills.push_back(std::move(k));
  }
  for (auto& k : assembler.finish()) kills.push_back(std::move(k));
  return kills;
}

}  // namespace octolaunch::parse::test
