#include "tests/unit/parse/fixture.h"

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
  OomAssembler assembler;
  std::vector<OomKill> kills;
  for (const auto& m : parseKernelLog(fixture(relativePath))) {
    for (auto& k : assembler.feed(m)) kills.push_back(std::move(k));
  }
  for (auto& k : assembler.finish()) kills.push_back(std::move(k));
  return kills;
}

}  // namespace octolaunch::parse::test
