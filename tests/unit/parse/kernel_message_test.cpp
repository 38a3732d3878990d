// The kernel log normaliser on real captured lines of every shape (see tests/fixtures/SOURCES.md).
#include "agent/parse/kernel_message.h"

#include <gtest/gtest.h>

#include "agent/parse/text_util.h"
#include "tests/unit/parse/fixture.h"

namespace octolaunch::parse {
namespace {

using test::fixture;

// The n-th line (0-based) of a fixture that contains `needle`.
std::string lineWith(const std::string& file, const std::string& needle, int n = 0) {
  std::string text = fixture(file);
  for (auto line : splitLines(text)) {
    if (line.find(needle) != std::string_view::npos && n-- == 0) return std::string(line);
  }
  ADD_FAILURE() << "no line with '" << needle << "' in " << file;
  return {};
}

constexpr const char* kSummary =
    "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/"
    "oltest,"
    "task_memcg=/oltest,task=memhog,pid=11612,uid=0";

TEST(KernelMessage, RawKmsgRecordFields) {
  auto m = parseKernelLine(lineWith("kmsg/linux-6.18-memcg-v1-3kills.kmsg", "oom-kill:constraint"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, kSummary);
  EXPECT_EQ(m->level, 6);
  EXPECT_EQ(m->facility, 0);
  ASSERT_TRUE(m->seq);
  ASSERT_TRUE(m->monoUsec);
  EXPECT_EQ(*m->monoUsec, 726050693u);
  EXPECT_FALSE(m->realtimeNs);
}

TEST(KernelMessage, SameTextFromEveryCapturedShape) {
  for (const char* file :
       {"kmsg/linux-6.18-memcg-v1-3kills.kmsg", "kmsg/linux-6.18-memcg-v1-3kills.dmesg",
        "kmsg/linux-6.18-memcg-v1-3kills.dmesg-T", "kmsg/linux-6.18-memcg-v1-3kills.dmesg-x"}) {
    SCOPED_TRACE(file);
    auto m = parseKernelLine(lineWith(file, "oom-kill:constraint"));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->text, kSummary);
  }
}

TEST(KernelMessage, DmesgMonotonicAndWallClock) {
  auto d = parseKernelLine(lineWith("kmsg/linux-6.18-memcg-v1-3kills.dmesg", "invoked oom-killer"));
  ASSERT_TRUE(d && d->monoUsec);
  EXPECT_EQ(*d->monoUsec, 726049552u);
  EXPECT_EQ(d->text,
            "memhog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0");
  auto t =
      parseKernelLine(lineWith("kmsg/linux-6.18-memcg-v1-3kills.dmesg-T", "invoked oom-killer"));
  ASSERT_TRUE(t && t->realtimeNs);
  EXPECT_EQ(*t->realtimeNs,
            1795847032LL * 1'000'000'000);  // [Sat Nov 28 06:23:52 2026], read as UTC
  auto x = parseKernelLine(
      lineWith("kmsg/linux-6.18-memcg-v1-3kills.dmesg-x", "fixture: memcg oom start"));
  ASSERT_TRUE(x);
  EXPECT_EQ(x->facility, 1);  // "user  :warn  :" (written to /dev/kmsg from user space)
  EXPECT_EQ(x->level, 4);
  EXPECT_EQ(x->text, "octolaunch-fixture: memcg oom start");
}

TEST(KernelMessage, JournalctlShortAndIsoPrecise) {
  auto s = parseKernelLine(lineWith("kmsg/systemd-252-journalctl-k-oom.short", "Killed process"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->host, "olparse");
  EXPECT_FALSE(s->realtimeNs);  // syslog stamps have no year
  EXPECT_EQ(s->text.rfind("Memory cgroup out of memory: Killed process 21720 (python3)", 0), 0u);
  auto p = parseKernelLine(
      lineWith("kmsg/systemd-252-journalctl-k-oom.short-iso-precise", "Killed process"));
  ASSERT_TRUE(p && p->realtimeNs);
  EXPECT_EQ(p->text, s->text);
}

TEST(KernelMessage, SyslogWithKernelTimestampInside) {
  auto m = parseKernelLine(
      lineWith("kmsg/public-ubuntu-docker-1001-memcg-group.syslog", "reaped process"));
  ASSERT_TRUE(m && m->monoUsec);
  EXPECT_EQ(*m->monoUsec, 514686093u);
  EXPECT_EQ(m->host, "ubuntu-s-1vcpu-2gb-ams3-01");
  EXPECT_EQ(m->text.rfind("oom_reaper: reaped process 15617 (python3)", 0), 0u);
}

TEST(KernelMessage, SyslogLinesOfOtherProgramsAreNotKernelMessages) {
  EXPECT_FALSE(parseKernelLine(
      lineWith("kmsg/public-el7-doris-sacrifice-mixed-syslog.syslog", "containerd:")));
  EXPECT_FALSE(
      parseKernelLine(lineWith("kmsg/public-el7-doris-sacrifice-mixed-syslog.syslog", "dockerd:")));
}

TEST(KernelMessage, DmesgMessagesThatLookLikeHostProgramStayMessages) {
  // "virtio_blk virtio1: [vda] ..." must not be mistaken for "host program: ..." after a dmesg
  // stamp.
  auto m =
      parseKernelLine(lineWith("kmsg/linux-6.18-memcg-v1-3kills.dmesg", "virtio_blk virtio1:"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text.rfind("virtio_blk virtio1: [vda] new size", 0), 0u);
}

TEST(KernelMessage, KmsgDictionaryAndEscapes) {
  std::string text = fixture("kmsg/linux-6.18-boot-dict-escapes.kmsg");
  auto lines = splitLines(text);
  ASSERT_GE(lines.size(), 3u);
  std::string record =
      std::string(lines[0]) + "\n" + std::string(lines[1]) + "\n" + std::string(lines[2]);
  auto m = parseKmsgRecord(record);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "virtio_blk virtio1: 1/0/0 default/read/poll queues");
  ASSERT_EQ(m->dict.size(), 2u);
  EXPECT_EQ(m->dict[0], (std::pair<std::string, std::string>{"SUBSYSTEM", "virtio"}));
  EXPECT_EQ(m->dict[1], (std::pair<std::string, std::string>{"DEVICE", "+virtio:virtio1"}));
  auto escaped =
      parseKernelLine(lineWith("kmsg/linux-6.18-boot-dict-escapes.kmsg", "amd_pstate: The CPPC"));
  ASSERT_TRUE(escaped);
  EXPECT_NE(escaped->text.find("BIOS.\nPlease enable"), std::string::npos);
}

TEST(KernelMessage, KernelPrefixWithoutStamp) {
  auto m = parseKernelLine(
      lineWith("kmsg/public-el7-3.10-kernel-prefix-header.txt", "invoked oom-killer"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text, "java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0");
}

TEST(KernelMessage, MalformedInputNeverCrashes) {
  for (std::string_view s :
       {"", " ", "-- Boot 1234 --", "6,", "6,1,2;", "99999999999999999999,1,1,-;x", "[", "[ 12.",
        "[Sat Nov", "\xff\xfe\xfd kernel: \xc3", "<", "<6", "kern  :"}) {
    auto m = parseKernelLine(s);
    if (m) {
      EXPECT_FALSE(m->text.empty());
    }
  }
  EXPECT_FALSE(parseKmsgRecord("not a record"));
  EXPECT_FALSE(parseKernelLine("-- Boot 0b8f8bbd2f9a4e0c8b0c0d3a2f1e4d5c --"));
}

}  // namespace
}  // namespace octolaunch::parse
