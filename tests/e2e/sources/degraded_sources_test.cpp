// End to end: the real `octolaunch-agent run` as a user without the privileges its sources need
// (uid 65534, no groups, no capabilities: what the agent is when a unit's CAP_SYSLOG,
// CAP_SYS_RESOURCE or SupplementaryGroups are taken away). Each source must say once, naming
// itself, what it lacks and the fix; the agent must report it degraded and keep running.
//  * kmsg: the real /dev/kmsg, which needs CAP_SYSLOG under kernel.dmesg_restrict = 1;
//  * journal: a real journal file (from a fixture) readable only by its owner and group;
//  * psi: pressure files that may be read but not written (a trigger is a write: before Linux
//    6.5 it needs CAP_SYS_RESOURCE; this lab's kernel lets anyone set a 2 s window, so the
//    refusal is made by the file's mode);
//  * cgroup: a hierarchy the user cannot read; containers: an engine socket of another group.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>

#include "tests/support/harness.h"
#include "tests/support/skip.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The line of `text` holding `what`; empty when none does.
std::string lineWith(const std::string& text, const std::string& what) {
  const auto at = text.find(what);
  if (at == std::string::npos) return {};
  const auto begin = text.rfind('\n', at) + 1;
  return text.substr(begin, text.find('\n', at) - begin);
}

// A unix socket bound at path, mode 0660, root's: what a container engine's socket looks like to
// a user outside its group.
int boundSocket(const fs::path& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::listen(fd, 4), 0);
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::group_write);
  return fd;
}

TEST(DegradedSources, AnAgentWithoutItsPrivilegesSaysWhatEachSourceLacksAndKeepsRunning) {
  if (::geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs root to run the agent as another user");
  const fs::path journalRemote = "/lib/systemd/systemd-journal-remote";
  if (!fs::exists(journalRemote)) OCTOLAUNCH_SKIP_UNLESS_CI("needs systemd-journal-remote");
  std::string restrict;
  std::ifstream("/proc/sys/kernel/dmesg_restrict") >> restrict;
  if (restrict != "1" || !fs::exists("/dev/kmsg"))
    OCTOLAUNCH_SKIP_UNLESS_CI("needs /dev/kmsg with kernel.dmesg_restrict = 1");

  TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::create_directories(dir / "agent");
  ASSERT_EQ(::chown((dir / "agent").c_str(), 65534, 65534), 0);

  fs::create_directories(dir / "journal");
  const auto journal = dir / "journal" / "system.journal";
  const auto made =
      run({journalRemote.string(), "-o", journal.string(),
           std::string(OCTOLAUNCH_FIXTURES_DIR) + "/journal/systemd-252-unit-failures.export"},
          60s);
  ASSERT_EQ(made.exitCode, 0) << made.out << made.err;
  fs::permissions(journal, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);

  fs::create_directories(dir / "pressure");
  for (const char* resource : {"memory", "io", "cpu"}) {
    std::ofstream(dir / "pressure" / resource)
        << "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
           "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    fs::permissions(dir / "pressure" / resource,
                    fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  }
  fs::create_directories(dir / "cgroup");
  fs::permissions(dir / "cgroup", fs::perms::owner_all);
  const int engine = boundSocket(dir / "docker.sock");

  std::ofstream(dir / "agent.toml")
      << "[sources.kmsg]\nrecover_previous_boot = false\n"
      << "[sources.journal]\ndirectory = \"" << (dir / "journal").string() << "\"\n"
      << "[sources.psi]\ndir = \"" << (dir / "pressure").string() << "\"\n"
      << "[sources.cgroup]\nroot = \"" << (dir / "cgroup").string() << "\"\n"
      << "[sources.containers]\nsockets = [\"" << (dir / "docker.sock").string() << "\"]\n"
      << "[sources.disk]\nenabled = false\n[sources.fd]\nenabled = false\n";
  Process agent(
      {.argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", binPath("octolaunch-agent"), "run", "--config",
                (dir / "agent.toml").string(), "--spool-dir", (dir / "agent" / "spool").string(),
                "--agent-id", "degraded", "--host", "h", "--collector", "127.0.0.1:1"},
       .captureStdout = true,
       .captureStderr = true});
  bool started = false;
  for (int i = 0; i < 1000 && !started && agent.running(); ++i) {
    agent.readAllStdout(10ms);
    started = agent.stderrText().find("sources: running:") != std::string::npos;
  }
  const std::string log = agent.stderrText();
  ASSERT_TRUE(started) << log;

  // One warning per source: what it lacks, the consequence, the fix.
  const std::string kmsg = lineWith(log, "sources: kmsg: cannot open /dev/kmsg");
  EXPECT_NE(kmsg.find("Operation not permitted"), std::string::npos) << log;
  EXPECT_NE(kmsg.find("needs CAP_SYSLOG"), std::string::npos) << log;
  EXPECT_NE(kmsg.find("fix: grant CAP_SYSLOG"), std::string::npos) << log;
  const std::string journalLine = lineWith(log, "sources: journal: cannot read the");
  EXPECT_NE(journalLine.find(journal.string()), std::string::npos) << log;
  EXPECT_NE(journalLine.find("fix: add the agent's user to group systemd-journal"),
            std::string::npos)
      << log;
  const std::string psi = lineWith(log, "sources: psi: cannot set a kernel trigger");
  EXPECT_NE(psi.find("CAP_SYS_RESOURCE); polling every"), std::string::npos) << log;
  EXPECT_NE(psi.find("fix: grant CAP_SYS_RESOURCE"), std::string::npos) << log;
  EXPECT_EQ(count(log, "cannot set a kernel trigger"), 1u) << "said once, not per resource\n"
                                                           << log;
  const std::string cgroup = lineWith(log, "sources: cgroup: cannot read the cgroup hierarchy");
  EXPECT_NE(cgroup.find("Permission denied"), std::string::npos) << log;
  EXPECT_NE(cgroup.find("fix: let the agent's user read"), std::string::npos) << log;
  const std::string containers = lineWith(log, "sources: containers: cannot connect to");
  EXPECT_NE(containers.find("Permission denied"), std::string::npos) << log;
  EXPECT_NE(containers.find("root-equivalent"), std::string::npos) << log;
  for (const std::string* line : {&kmsg, &journalLine, &psi, &cgroup, &containers})
    EXPECT_NE(line->find(" warning: sources: "), std::string::npos) << *line;

  // Reported as degraded; PSI (polling) and the journal (following what it can) still run.
  EXPECT_NE(lineWith(log, "sources: running:")
                .find("running: psi, journal; degraded: kmsg, cgroup, psi, journal, containers"),
            std::string::npos)
      << log;
  EXPECT_TRUE(agent.running()) << log;
  agent.signal(SIGTERM);
  const auto status = agent.wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(exitCodeOf(*status), 0) << agent.stderrText();
  ::close(engine);
}

}  // namespace
}  // namespace octolaunch::testing
