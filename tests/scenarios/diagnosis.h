// How a scenario is judged, and the diagnosis report every judged scenario adds a row to.
//
// A scenario passes when the top cause (the first that is not context) has the expected
// category, exactly the expected hosts, and a first evidence line that names the expected
// evidence. A healthy release expects category "none": no cause but context.
//
// Each judged run appends one tab-separated row to the report file (OCTOLAUNCH_SCENARIO_REPORT,
// else scenario-report.tsv in the working directory): scenario, twin, expected category, top-1
// category, hosts right, first evidence right, top-3 categories, pass.
// tests/scenarios/diagnosis_report.py turns the file into the table of tests/scenarios/README.md.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/scenarios/twin.h"

namespace octolaunch::testing {

struct Expected {
  std::string category;            // "none": a healthy release
  std::vector<std::string> hosts;  // the top cause's hosts, in any order
  std::string firstEvidence;       // found in the top cause's first evidence entry ("" = any)
};

// The first cause that is not context, or an empty object.
const nlohmann::json& rootCause(const nlohmann::json& answer);

// Checks answer against expected with gtest expectations, and records the row.
void judge(const std::string& scenario, Twin twin, const Expected& expected,
           const nlohmann::json& answer);

// The fixture of a scenario suite run in both twins: the noisy twin skips (fails in CI) where the
// background cannot run; judge() records the row under the scenario's name.
class TwinScenario : public ::testing::TestWithParam<Twin> {
 protected:
  void SetUp() override;
  void judge(const Expected& expected, const nlohmann::json& answer);
};

}  // namespace octolaunch::testing
