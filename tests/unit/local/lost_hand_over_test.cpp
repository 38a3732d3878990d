// What a deploy user is told when neither the agent's socket nor its fallback queue takes the
// records (LocalSink, lostHandOverText): the fix must match the cause. Real sockets and paths: a
// socket file nobody created (the daemon is not installed or not running) and one nobody listens
// on (a daemon that died) both say to start the daemon, not to join a group.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "agent/local/local_client.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::agent {
namespace {

std::vector<std::string> warningsOf(const LocalClientOptions& options) {
  std::vector<std::string> said;
  LocalSink sink(options, [&said](const std::string& text) { said.push_back(text); });
  return said;
}

bool anyContains(const std::vector<std::string>& lines, const std::string& piece) {
  for (const auto& line : lines)
    if (line.find(piece) != std::string::npos) return true;
  return false;
}

TEST(LostHandOver, NoDaemonInstalledSaysToStartIt) {
  testing::TempDir dir;
  const auto said = warningsOf({.socket = dir / "agent.sock", .queueDir = dir / "no" / "queue"});
  ASSERT_TRUE(anyContains(said, "NOT recorded")) << ::testing::PrintToString(said);
  EXPECT_TRUE(anyContains(said, "no agent daemon answers at")) << ::testing::PrintToString(said);
  EXPECT_TRUE(anyContains(said, "systemctl start octolaunch-agent"));
  EXPECT_FALSE(anyContains(said, "usermod"));
}

TEST(LostHandOver, ASocketNobodyListensOnSaysToStartTheDaemon) {
  testing::TempDir dir;
  const auto socketPath = dir / "agent.sock";
  // A socket file left by a daemon that died: bound, then closed without unlinking.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socketPath.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  const auto said = warningsOf({.socket = socketPath, .queueDir = dir / "no" / "queue"});
  ASSERT_TRUE(anyContains(said, "NOT recorded")) << ::testing::PrintToString(said);
  EXPECT_TRUE(anyContains(said, "Connection refused")) << ::testing::PrintToString(said);
  EXPECT_TRUE(anyContains(said, "systemctl start octolaunch-agent"));
}

TEST(LostHandOver, ARefusedSocketSaysWhichGroupToJoin) {
  LocalClientOptions options{.socket = "/var/lib/octolaunch-agent/agent.sock"};
  const std::string text =
      lostHandOverText(options, EACCES, "cannot queue in /q: Permission denied", "deployer");
  EXPECT_NE(text.find("refused deployer (Permission denied)"), std::string::npos) << text;
  EXPECT_NE(text.find("usermod -aG octolaunch-deploy deployer"), std::string::npos) << text;
}

}  // namespace
}  // namespace octolaunch::agent
