#include "tests/scenarios/diagnosis.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "tests/scenarios/background.h"
#include "tests/support/skip.h"

namespace octolaunch::testing {

using nlohmann::json;

namespace {

std::vector<std::string> sortedHosts(const json& cause) {
  std::vector<std::string> hosts;
  for (const auto& h : cause.value("hosts", json::array())) hosts.push_back(h.get<std::string>());
  std::sort(hosts.begin(), hosts.end());
  return hosts;
}

std::string categoriesOf(const json& answer, std::size_t count) {
  std::string out;
  std::size_t n = 0;
  for (const auto& c : answer.value("causes", json::array())) {
    if (c.value("context", false)) continue;
    if (n++ == count) break;
    out += (out.empty() ? "" : ", ") + c.value("category", "?");
  }
  return out.empty() ? "none" : out;
}

void record(const std::string& row) {
  const char* path = std::getenv("OCTOLAUNCH_SCENARIO_REPORT");
  std::ofstream(path ? path : "scenario-report.tsv", std::ios::app) << row << "\n";
}

}  // namespace

const json& rootCause(const json& answer) {
  static const json none = json::object();
  if (!answer.contains("causes") || !answer["causes"].is_array()) return none;
  for (const auto& c : answer["causes"]) {
    if (!c.value("context", false)) return c;
  }
  return none;
}

void judge(const std::string& scenario, Twin twin, const Expected& expected, const json& answer) {
  const json& top = rootCause(answer);
  std::string category = top.empty() ? "none" : top.value("category", "?");
  std::vector<std::string> wantHosts = expected.hosts;
  std::sort(wantHosts.begin(), wantHosts.end());
  bool hostsRight = expected.category == "none" || sortedHosts(top) == wantHosts;
  bool evidenceRight = true;
  if (!expected.firstEvidence.empty()) {
    const json& evidence = top.value("evidence", json::array());
    evidenceRight =
        !evidence.empty() && evidence[0].dump().find(expected.firstEvidence) != std::string::npos;
  }
  bool pass = category == expected.category && hostsRight && evidenceRight;

  EXPECT_EQ(category, expected.category) << answer.dump(2);
  EXPECT_TRUE(hostsRight) << "expected the top cause on exactly these hosts: "
                          << json(wantHosts).dump() << "\n"
                          << top.dump(2);
  EXPECT_TRUE(evidenceRight) << "expected the first evidence to name \"" << expected.firstEvidence
                             << "\"\n"
                             << top.dump(2);
  record(scenario + "\t" + twinName(twin) + "\t" + expected.category + "\t" + category + "\t" +
         (hostsRight ? "yes" : "no") + "\t" + (evidenceRight ? "yes" : "no") + "\t" +
         categoriesOf(answer, 3) + "\t" + (pass ? "pass" : "FAIL"));
}

void TwinScenario::SetUp() {
  if (GetParam() == Twin::noisy) {
    if (std::string why = noiseUnavailable(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  }
}

void TwinScenario::judge(const Expected& expected, const json& answer) {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  octolaunch::testing::judge(name.substr(0, name.find('/')), GetParam(), expected, answer);
}

}  // namespace octolaunch::testing
