// Skipping a test that needs something this host lacks (root, cgroups, podman, systemd): say why.
// In CI (CI=true, root) nothing may be skipped: the same condition is a failure there.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace octolaunch::testing {

inline bool inCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace octolaunch::testing

// Use inside a TEST body: returns from the test.
#define OCTOLAUNCH_SKIP_UNLESS_CI(reason)                   \
  do {                                                      \
    if (::octolaunch::testing::inCi()) {                    \
      FAIL() << "CI must run this test, but: " << (reason); \
    }                                                       \
    GTEST_SKIP() << (reason);                               \
  } while (0)
