// Every scenario runs twice: quiet (only what the scenario does) and as its noisy twin (the same
// failure on hosts as busy as real ones during a deploy; see background.h).
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace octolaunch::testing {

enum class Twin { quiet, noisy };

inline std::string twinName(Twin twin) { return twin == Twin::quiet ? "quiet" : "noisy"; }

struct TwinName {
  std::string operator()(const ::testing::TestParamInfo<Twin>& info) const {
    return twinName(info.param);
  }
};

}  // namespace octolaunch::testing
