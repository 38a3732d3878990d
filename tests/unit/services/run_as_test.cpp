// Commands the agent runs (health probe commands, dependency commands) under the configured
// run_as user: as root; as a non-root agent granted CAP_SETUID, CAP_SETGID and CAP_KILL (the
// drop-in of docs/architecture.md); and as a non-root agent without them, which must refuse with
// the reason and not run the command. None of them may pass the agent's capabilities on.
#include "agent/services/run_as.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent/services/shell_command.h"
#include "tests/support/harness.h"
#include "tests/support/process.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::services {
namespace {

using namespace std::chrono_literals;

constexpr const char* kWhoAmI =
    "id -u; id -g; id -G; grep -E '^Cap(Eff|Prm|Amb):' /proc/self/status";

class RunAs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs root to run commands as other users");
    if (!std::filesystem::exists("/usr/bin/setpriv"))
      OCTOLAUNCH_SKIP_UNLESS_CI("needs /usr/bin/setpriv (util-linux)");
  }

  // The helper, as an agent running as uid 65534 (no groups) with `caps` in its inheritable and
  // ambient sets (e.g. "+setuid,+setgid,+kill"; empty: none).
  static testing::RunResult asNonRootAgent(const std::string& caps, const std::string& user,
                                           const std::string& command) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                     "--clear-groups"};
    if (caps.empty()) {
      argv.push_back("--inh-caps=-all");
    } else {
      argv.push_back("--inh-caps=-all," + caps);
      argv.push_back("--ambient-caps=-all," + caps);
    }
    argv.push_back(testing::binPath("run_command_as"));
    argv.push_back(user);
    argv.push_back(command);
    return testing::run(argv, 20s, {}, "/");
  }
};

std::string capLine(const std::string& out, const std::string& name) {
  const auto at = out.find(name + ":\t");
  if (at == std::string::npos) return "(none)";
  return out.substr(at + name.size() + 2, out.find('\n', at) - at - name.size() - 2);
}

// The command's /proc/self/status (kWhoAmI's output): effective, permitted and ambient sets empty.
void expectNoCapabilities(const std::string& out) {
  for (const char* set : {"CapEff", "CapPrm", "CapAmb"})
    EXPECT_EQ(capLine(out, set), "0000000000000000") << set << "\n" << out;
}

TEST_F(RunAs, RootAgentRunsTheCommandAsNobodyWithNobodysGroupsAndNoCapabilities) {
  const CommandResult result = runShellCommand(kWhoAmI, 10s, 4096, "nobody");
  ASSERT_TRUE(result.ok()) << result.error << "\n" << result.output;
  EXPECT_EQ(result.output.substr(0, result.output.find("Cap")), "65534\n65534\n65534\n");
  expectNoCapabilities(result.output);
}

TEST_F(RunAs, ANumericUidWorksLikeItsName) {
  const CommandResult result = runShellCommand("id -u", 10s, 4096, "65534");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.output, "65534\n");
}

TEST_F(RunAs, TheUsersHomeAndNameAreItsOwn) {
  const CommandResult result =
      runShellCommand("echo \"$USER $LOGNAME $HOME\"", 10s, 4096, "daemon");
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.output, "daemon daemon /usr/sbin\n");
}

TEST_F(RunAs, AnUnknownUserIsRefusedWithItsNameAndTheCommandDoesNotRun) {
  testing::TempDir dir;
  const auto marker = dir / "ran";
  const CommandResult result =
      runShellCommand("touch " + marker.string(), 10s, 4096, "octolaunch-no-such-user");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.exitCode, -1);
  EXPECT_NE(result.error.find("run_as \"octolaunch-no-such-user\": no such user"),
            std::string::npos)
      << result.error;
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(RunAs, NonRootAgentWithTheDropInsCapabilitiesRunsAsAnotherUserAndPassesNoneOn) {
  // The agent's own CAP_SYSLOG stands for the capabilities its sources need.
  const auto r = asNonRootAgent("+setuid,+setgid,+kill,+syslog", "daemon", kWhoAmI);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("exit=0\nerror=\n1\n1\n1\n"), std::string::npos) << r.out;
  expectNoCapabilities(r.out);
}

TEST_F(RunAs, WithoutRunAsACommandStillGetsNoneOfTheAgentsCapabilities) {
  const auto r = asNonRootAgent("+syslog", "", kWhoAmI);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("exit=0\nerror=\n65534\n"), std::string::npos) << r.out;
  expectNoCapabilities(r.out);
}

TEST_F(RunAs, NonRootAgentWithoutTheCapabilitiesRefusesAndSaysWhatIsMissing) {
  testing::TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  const auto marker = dir / "ran";
  const auto r = asNonRootAgent("", "daemon", "touch " + marker.string());
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("exit=-1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run_as \"daemon\": the agent lacks CAP_SETUID CAP_SETGID CAP_KILL"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("the command was not run"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("drop-in"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(RunAs, NonRootAgentNeedsNothingToRunAsItself) {
  const auto r = asNonRootAgent("", "nobody", "id -u");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "exit=0\nerror=\n65534\n");
}

TEST_F(RunAs, ACommandPastItsTimeoutIsKilledEvenAsAnotherUser) {
  const auto r = asNonRootAgent("+setuid,+setgid,+kill", "daemon",
                                "exec sleep 30");  // the helper's timeout is 10 s
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("error=timed out after 10000 ms"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace octolaunch::services
