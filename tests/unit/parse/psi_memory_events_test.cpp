// PSI files and cgroup memory counters captured on this host (tests/fixtures/SOURCES.md).
#include <gtest/gtest.h>

#include "agent/parse/memory_events.h"
#include "agent/parse/psi.h"
#include "tests/unit/parse/fixture.h"

namespace octolaunch::parse {
namespace {

TEST(Psi, CpuFile) {
  auto p = parsePsi(test::fixture("psi/linux-6.18-cpu"), psiResourceFromPath("/proc/pressure/cpu"));
  EXPECT_EQ(p.skipped, 0u);
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[0].resource, PsiResource::cpu);
  EXPECT_EQ(p.samples[0].line, "some");
  EXPECT_DOUBLE_EQ(p.samples[0].avg10, 28.78);
  EXPECT_DOUBLE_EQ(p.samples[0].avg60, 44.10);
  EXPECT_DOUBLE_EQ(p.samples[0].avg300, 28.48);
  EXPECT_EQ(p.samples[0].totalUs, 131273225u);
  EXPECT_EQ(p.samples[1].line, "full");
  EXPECT_EQ(p.samples[1].totalUs, 0u);
}

TEST(Psi, IoAndMemoryFiles) {
  auto io = parsePsi(test::fixture("psi/linux-6.18-io"), PsiResource::io);
  ASSERT_EQ(io.samples.size(), 2u);
  EXPECT_DOUBLE_EQ(io.samples[1].avg300, 0.05);
  EXPECT_EQ(io.samples[1].totalUs, 3409672u);
  auto mem = parsePsi(test::fixture("psi/linux-6.18-memory"));
  ASSERT_EQ(mem.samples.size(), 2u);
  EXPECT_EQ(mem.samples[0].resource, PsiResource::unknown);
  EXPECT_EQ(mem.samples[0].totalUs, 4116u);
  EXPECT_EQ(mem.samples[1].totalUs, 754u);
}

TEST(Psi, ResourceFromPath) {
  EXPECT_EQ(psiResourceFromPath("/proc/pressure/memory"), PsiResource::memory);
  EXPECT_EQ(psiResourceFromPath("/sys/fs/cgroup/system.slice/io.pressure"), PsiResource::io);
  EXPECT_EQ(psiResourceFromPath("linux-6.18-cpu"), PsiResource::unknown);
  EXPECT_STREQ(psiResourceName(PsiResource::cpu), "cpu");
}

TEST(Psi, GarbageIsSkippedAndCounted) {
  auto p = parsePsi(
      "some avg10=x avg60=0 avg300=0 total=0\nfull\n\xff\xfe\nsome avg10=1.00 avg60=2.00 "
      "avg300=3.00 total=4\n");
  EXPECT_EQ(p.skipped, 3u);
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_DOUBLE_EQ(p.samples[0].avg300, 3.0);
}

TEST(MemoryEvents, V1OomControlAfterKill) {
  auto m = parseMemoryEvents(test::fixture("memory-events/v1-memory.oom_control-after-kill"));
  EXPECT_EQ(m.skipped, 0u);
  EXPECT_TRUE(m.isV1());
  EXPECT_EQ(m.oomKill(), 1u);
  EXPECT_EQ(m.get("under_oom"), 0u);
  EXPECT_EQ(m.get("oom_kill_disable"), 0u);
}

TEST(MemoryEvents, V1UnderOomWithKillerDisabled) {
  auto m = parseMemoryEvents(
      test::fixture("memory-events/v1-memory.oom_control-under-oom-killer-disabled"));
  EXPECT_EQ(m.get("oom_kill_disable"), 1u);
  EXPECT_EQ(m.get("under_oom"), 1u);
  EXPECT_EQ(m.oomKill(), 0u);
  auto root = parseMemoryEvents(test::fixture("memory-events/v1-memory.oom_control-root"));
  EXPECT_EQ(root.counters.size(), 3u);
}

TEST(MemoryEvents, V2KeySet) {
  // Not captured (no cgroup v2 memory controller on this host): the key set of
  // Documentation/admin-guide/cgroup-v2.rst, as the kernel prints it ("%s %lu\n").
  auto m = parseMemoryEvents("low 0\nhigh 12\nmax 35\noom 1\noom_kill 1\noom_group_kill 0\n");
  EXPECT_FALSE(m.isV1());
  EXPECT_EQ(m.get("max"), 35u);
  EXPECT_EQ(m.oomKill(), 1u);
  EXPECT_EQ(m.get("oom_group_kill"), 0u);
  EXPECT_FALSE(m.get("sock_throttled"));
}

TEST(MemoryEvents, GarbageIsSkippedAndCounted) {
  auto m =
      parseMemoryEvents("oom_kill\nOOM 1\noom_kill -1\noom_kill 99999999999999999999999\nmax 3\n");
  EXPECT_EQ(m.skipped, 4u);
  EXPECT_EQ(m.get("max"), 3u);
}

}  // namespace
}  // namespace octolaunch::parse
