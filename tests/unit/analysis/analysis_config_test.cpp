#include "collector/analysis/analysis_config.h"

#include <gtest/gtest.h>

namespace octolaunch::analysis {
namespace {

AnalysisOptions parse(std::string_view text) {
  return parseAnalysisConfig(toml::parse(text, std::string_view("collector.toml")));
}

std::string errorOf(std::string_view text) {
  try {
    parse(text);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(AnalysisConfig, DefaultsWithoutTheSection) {
  auto o = parse("[store]\ndata_dir = \"/tmp/x\"\n");
  EXPECT_EQ(o.window.graceNs, 900LL * 1'000'000'000);
  EXPECT_EQ(o.window.maxOpenNs, 3600LL * 1'000'000'000);
  EXPECT_TRUE(o.mappings.empty());
}

TEST(AnalysisConfig, ReadsWindowsAndServiceMappings) {
  auto o = parse(R"(
[analysis]
deploy_grace_seconds = 60
deploy_max_seconds = 7200
[analysis.services.api]
units = ["api.service", "api-worker@1.service"]
images = ["registry.acme.io/api"]
processes = ["gunicorn"]
)");
  EXPECT_EQ(o.window.graceNs, 60LL * 1'000'000'000);
  EXPECT_EQ(o.window.maxOpenNs, 7200LL * 1'000'000'000);
  ASSERT_EQ(o.mappings.count("api"), 1u);
  EXPECT_EQ(o.mappings["api"].units.size(), 2u);
  EXPECT_EQ(o.mappings["api"].processes, std::vector<std::string>{"gunicorn"});
}

TEST(AnalysisConfig, ReadsPressureThresholdsLookbackAndClocks) {
  auto d = parse("");
  EXPECT_EQ(d.causes.pressureSomeAvg10, 40.0);
  EXPECT_EQ(d.causes.pressureFullAvg10, 10.0);
  EXPECT_EQ(d.causes.pressureMinNs, 30LL * 1'000'000'000);
  EXPECT_EQ(d.conditionLookbackNs, 86400LL * 1'000'000'000);
  auto o = parse(R"(
[analysis]
condition_lookback_seconds = 3600
pressure_some_avg10_percent = 25.5
pressure_full_avg10_percent = 5
pressure_min_seconds = 60
pressure_merge_gap_seconds = 10
clock_floor_ms = 20
unmeasured_clock_uncertainty_ms = 500
)");
  EXPECT_EQ(o.conditionLookbackNs, 3600LL * 1'000'000'000);
  EXPECT_EQ(o.causes.pressureSomeAvg10, 25.5);
  EXPECT_EQ(o.causes.pressureFullAvg10, 5.0);
  EXPECT_EQ(o.causes.pressureMinNs, 60LL * 1'000'000'000);
  EXPECT_EQ(o.causes.pressureMergeGapNs, 10LL * 1'000'000'000);
  EXPECT_EQ(o.clockFloorNs, 20'000'000);
  EXPECT_EQ(o.unmeasuredClockUncertaintyNs, 500'000'000);
  EXPECT_NE(errorOf("[analysis]\npressure_some_avg10_percent = 140\n")
                .find("analysis.pressure_some_avg10_percent"),
            std::string::npos);
  EXPECT_NE(errorOf("[analysis]\npressure_min_seconds = \"30s\"\n").find("expected an integer"),
            std::string::npos);
}

TEST(AnalysisConfig, BadValuesNameFileAndKey) {
  EXPECT_EQ(errorOf("[analysis]\ndeploy_grace_seconds = \"15m\"\n"),
            "collector.toml:2: analysis.deploy_grace_seconds: expected an integer, got a string");
  EXPECT_NE(errorOf("[analysis]\ngrace = 5\n").find("analysis.grace: unknown key"),
            std::string::npos);
  EXPECT_NE(errorOf("[analysis.services.api]\nunits = \"api.service\"\n")
                .find("analysis.services.api.units"),
            std::string::npos);
  EXPECT_NE(errorOf("[analysis]\ndeploy_max_seconds = 0\n").find("deploy_max_seconds"),
            std::string::npos);
}

}  // namespace
}  // namespace octolaunch::analysis
