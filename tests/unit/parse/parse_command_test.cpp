// `octolaunch-agent parse` on captured files: one JSON object per line, counts on stderr, exit
// codes.
#include "agent/parse/parse_command.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/unit/parse/fixture.h"

namespace octolaunch::parse {
namespace {

using nlohmann::json;

struct Result {
  int code = 0;
  std::vector<json> events;
  std::string err;
};

Result run(const std::string& source, const std::string& input, const std::string& name = "") {
  std::istringstream in(input);
  std::ostringstream out, err;
  Result r;
  r.code = runParseCommand(source, in, out, err, name);
  std::istringstream lines(out.str());
  std::string line;
  while (std::getline(lines, line)) r.events.push_back(json::parse(line));
  r.err = err.str();
  return r;
}

TEST(ParseCommand, KmsgPrintsOomKillsWithApiFieldNames) {
  auto r = run("kmsg", test::fixture("kmsg/linux-6.18-memcg-v1-3kills.kmsg"));
  EXPECT_EQ(r.code, 0);
  ASSERT_EQ(r.events.size(), 3u);
  const json& e = r.events[1];
  EXPECT_EQ(e["kind"], "oom.kill");
  EXPECT_EQ(e["data"]["pid"], 12674);
  EXPECT_EQ(e["data"]["process"], "memhold");
  EXPECT_EQ(e["data"]["trigger"], "api worker");
  EXPECT_EQ(e["data"]["constraint"], "CONSTRAINT_MEMCG");
  EXPECT_EQ(e["data"]["memcg"], "/system.slice/oltest-api.service");
  EXPECT_EQ(e["data"]["unit"], "oltest-api.service");
  EXPECT_EQ(e["data"]["anon_rss_kb"], 30720);
  EXPECT_EQ(e["data"]["total_vm_kb"], 33200);
  EXPECT_EQ(e["data"]["uid"], 0);
  EXPECT_NE(r.err.find("313 lines, 3 events, 0 skipped"), std::string::npos) << r.err;
}

TEST(ParseCommand, KmsgTimeFromDmesgT) {
  auto r = run("kmsg", test::fixture("kmsg/linux-6.18-memcg-v1-3kills.dmesg-T"));
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0]["time"], "2026-11-28T06:23:52.000000000Z");
}

TEST(ParseCommand, KmsgCountsLinesThatAreNotKernelMessages) {
  auto r = run("kmsg", test::fixture("kmsg/public-el7-doris-sacrifice-mixed-syslog.syslog"));
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.events.size(), 1u);
  EXPECT_NE(r.err.find("3 skipped"), std::string::npos) << r.err;
}

TEST(ParseCommand, JournalJson) {
  auto r = run("journal-json", test::fixture("journal/systemd-252-unit-failures.json"));
  EXPECT_EQ(r.code, 0);
  int failed = 0, ooms = 0;
  for (const auto& e : r.events) {
    if (e["kind"] == "unit.failed") {
      ++failed;
      if (e["data"]["unit"] == "ol-startlimit.service") {
        EXPECT_EQ(e["data"]["result"], "start-limit-hit");
        EXPECT_EQ(e["data"]["restarts"], 3);
      }
      if (e["data"]["unit"] == "ol-oom.service") {
        EXPECT_EQ(e["data"]["signal"], "KILL");
        EXPECT_EQ(e["data"]["oom_killed"], true);
      }
    } else if (e["kind"] == "oom.kill") {
      ++ooms;
      EXPECT_EQ(e["data"]["source"], "journal");
    }
    EXPECT_TRUE(e.contains("time_ns"));
  }
  EXPECT_EQ(failed, 16);
  EXPECT_EQ(ooms, 1);
}

TEST(ParseCommand, DockerEvents) {
  auto r = run("docker-events", test::fixture("docker/podman-4.3.1-api-events.jsonl"));
  ASSERT_EQ(r.events.size(), 6u);
  EXPECT_EQ(r.events[0]["kind"], "container.failed");
  EXPECT_EQ(r.events[0]["data"]["name"], "ol-exit1");
  EXPECT_EQ(r.events[0]["data"]["exit_code"], 1);
  EXPECT_EQ(r.events[0]["data"]["image"], "localhost/bb:1");
  auto oom = run("docker-events", test::fixture("docker/public-docker-1.9-events-oom.jsonl"));
  ASSERT_EQ(oom.events.size(), 1u);
  EXPECT_EQ(oom.events[0]["kind"], "container.oom");
  EXPECT_EQ(oom.events[0]["data"]["oom_killed"], true);
}

TEST(ParseCommand, PsiAndMemoryEvents) {
  auto p = run("psi", test::fixture("psi/linux-6.18-io"), "/proc/pressure/io");
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.events[1]["kind"], "pressure");
  EXPECT_EQ(p.events[1]["data"]["line"], "full");
  EXPECT_EQ(p.events[1]["data"]["resource"], "io");
  EXPECT_EQ(p.events[1]["data"]["total"], 3409672);
  auto m = run("memory-events", test::fixture("memory-events/v1-memory.oom_control-after-kill"));
  ASSERT_EQ(m.events.size(), 1u);
  EXPECT_EQ(m.events[0]["data"]["oom_kill"], 1);
  EXPECT_EQ(m.events[0]["data"]["cgroup_version"], 1);
}

TEST(ParseCommand, InvalidUtf8IsPrintedEscapedNotFatal) {
  auto r =
      run("kmsg", "Out of memory: Killed process 7 (\xff\xfe) total-vm:1kB, anon-rss:1kB\n\xc3\n");
  EXPECT_EQ(r.code, 0);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0]["data"]["process"], "\\xff\\xfe");
}

TEST(ParseCommand, UnknownSourceAndUnreadableFileExitTwo) {
  auto r = run("dmesg", "");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown source 'dmesg'"), std::string::npos);
  testing::internal::CaptureStderr();
  EXPECT_EQ(runParseCommand("kmsg", "/nonexistent/octolaunch-fixture"), 2);
  EXPECT_EQ(runParseCommand("kmsg", OCTOLAUNCH_FIXTURES_DIR), 2);  // a directory
  EXPECT_EQ(runParseCommand("nope", "/nonexistent"), 2);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("cannot open /nonexistent/octolaunch-fixture"), std::string::npos) << err;
  EXPECT_NE(err.find("is a directory"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown source 'nope'"), std::string::npos) << err;
}

}  // namespace
}  // namespace octolaunch::parse
