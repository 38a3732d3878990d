#include "collector/retention/evidence_shield.h"

#include <gtest/gtest.h>

namespace octolaunch::retention {
namespace {

TEST(EvidenceShieldTest, CoversItsReleasesAndItsSpansOnTheirHostsOnly) {
  EvidenceShield shield;
  shield.coverRelease("r-failed");
  shield.coverSpan("web-1", 1000, 2000);
  shield.coverSpan("web-1", 5000, 0);  // one instant: a cause's evidence

  EXPECT_TRUE(shield.covers("r-failed", "db-9", 1, 1)) << "any event of the release";
  EXPECT_FALSE(shield.covers("r-other", "db-9", 1500, 1500));
  EXPECT_TRUE(shield.covers("", "web-1", 1000, 1000)) << "a span includes its start";
  EXPECT_FALSE(shield.covers("", "web-1", 2000, 2000)) << "and excludes its end";
  EXPECT_FALSE(shield.covers("", "web-2", 1500, 1500)) << "another host";
  EXPECT_TRUE(shield.covers("", "web-1", 900, 1000)) << "a block whose last line is in it";
  EXPECT_TRUE(shield.covers("", "web-1", 1999, 4000)) << "a block whose first line is in it";
  EXPECT_TRUE(shield.covers("", "web-1", 100, 9000)) << "a block around it";
  EXPECT_TRUE(shield.covers("", "web-1", 5000, 5000));
  EXPECT_FALSE(shield.covers("", "web-1", 5001, 5001));
  EXPECT_FALSE(shield.covers("", "web-1", 2000, 4999)) << "between the spans";
}

}  // namespace
}  // namespace octolaunch::retention
