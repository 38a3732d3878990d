#include "agent/sources/health/health_probe.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <future>

#include "agent/services/shell_command.h"
#include "tests/support/io_thread.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"
#include "tests/unit/sources/http_test_server.h"

namespace octolaunch::sources {
namespace {

using services::HealthProbeConfig;
using services::ProbeType;
using testing::IoThread;

using TestServer = testing::HttpTestServer;

ProbeResult runProbe(const HealthProbeConfig& probe) {
  IoThread io;
  AsioHealthProber prober(io.io());
  std::promise<ProbeResult> promise;
  auto future = promise.get_future();
  io.run([&] {
    prober.run(probe, [&](ProbeResult r) { promise.set_value(std::move(r)); });
    return 0;
  });
  EXPECT_EQ(future.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto result = future.get();
  io.run([&] {
    prober.cancelAll();
    return 0;
  });
  return result;
}

HealthProbeConfig http(const std::string& url, unsigned expect = 200) {
  HealthProbeConfig p;
  p.type = ProbeType::http;
  p.url = url;
  p.expectStatus = expect;
  return p;
}

HealthProbeConfig tcp(const std::string& address) {
  HealthProbeConfig p;
  p.type = ProbeType::tcp;
  p.address = address;
  return p;
}

HealthProbeConfig command(const std::string& cmd,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  HealthProbeConfig p;
  p.type = ProbeType::command;
  p.command = cmd;
  p.timeout = timeout;
  return p;
}

// A port nothing listens on: bound once to learn a free number, then closed.
int closedPort() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  int port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

TEST(HttpProbe, ExpectedStatusIsHealthy) {
  TestServer server(200);
  auto result = runProbe(http(server.url()));
  EXPECT_TRUE(result.healthy) << result.error;
  EXPECT_EQ(result.status, "200");
  EXPECT_EQ(result.error, "");
  EXPECT_LT(result.latencyMs, 2000u);
}

TEST(HttpProbe, OtherStatusFailsNamingBoth) {
  TestServer server(503);
  auto result = runProbe(http(server.url()));
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.status, "503");
  EXPECT_EQ(result.error, "expected status 200, got 503");
  auto expected204 = runProbe(http(server.url(), 503));
  EXPECT_TRUE(expected204.healthy);
}

TEST(HttpProbe, ClosedPortFailsWithConnectionRefused) {
  const int port = closedPort();
  auto result = runProbe(http("http://127.0.0.1:" + std::to_string(port) + "/healthz"));
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.error, "connect 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST(HttpProbe, SilentServerTimesOut) {
  // Accepts connections (the kernel's backlog) but never answers.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io,
                                   asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto probe = http("http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/");
  probe.timeout = std::chrono::milliseconds(300);
  auto result = runProbe(probe);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.error, "timed out after 300 ms");
  EXPECT_GE(result.latencyMs, 290u);
  EXPECT_LT(result.latencyMs, 3000u);
}

TEST(TcpProbe, OpenPortIsHealthy) {
  TestServer server(200);
  auto result = runProbe(tcp("127.0.0.1:" + std::to_string(server.port())));
  EXPECT_TRUE(result.healthy) << result.error;
  EXPECT_EQ(result.status, "connected");
}

TEST(TcpProbe, ClosedPortFailsWithAClearError) {
  const int port = closedPort();
  auto result = runProbe(tcp("127.0.0.1:" + std::to_string(port)));
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.status, "");
  EXPECT_EQ(result.error, "connect 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

TEST(CommandProbe, ExitStatusDecides) {
  auto ok = runProbe(command("test -d /"));
  EXPECT_TRUE(ok.healthy) << ok.error;
  EXPECT_EQ(ok.status, "0");
  auto bad = runProbe(command("echo some output; exit 3"));
  EXPECT_FALSE(bad.healthy);
  EXPECT_EQ(bad.status, "3");
  EXPECT_EQ(bad.error, "exit status 3");  // output is never reported
  auto missing = runProbe(command("/nonexistent/check"));
  EXPECT_EQ(missing.status, "127");
}

TEST(CommandProbe, TimeoutKillsTheWholeProcessGroup) {
  testing::TempDir dir;
  const std::string pidFile = (dir / "pid").string();
  auto result = runProbe(
      command("sleep 30 & echo $! > " + pidFile + "; wait", std::chrono::milliseconds(300)));
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.error, "timed out after 300 ms");
  EXPECT_EQ(result.status, std::to_string(128 + SIGKILL));
  EXPECT_LT(result.latencyMs, 5000u);
  pid_t background = 0;
  std::ifstream(pidFile) >> background;
  ASSERT_GT(background, 0);
  // The background sleep was killed too: gone, or a zombie awaiting its new parent.
  std::string state;
  const bool gone = testing::waitUntil(  // the kill is asynchronous
      [&] {
        std::ifstream stat("/proc/" + std::to_string(background) + "/stat");
        std::string pid, comm;
        state.clear();
        if (stat) stat >> pid >> comm >> state;
        return state.empty() || state == "Z";
      },
      std::chrono::seconds(2));
  EXPECT_TRUE(gone) << "background child still running, state " << state;
}

TEST(CommandProbe, RunsAsTheConfiguredUser) {
  if (::geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs root to run a probe as another user");
  auto probe = command("test \"$(id -u)\" = 65534");
  auto asAgent = runProbe(probe);
  EXPECT_FALSE(asAgent.healthy);  // root
  probe.runAs = "nobody";
  auto asNobody = runProbe(probe);
  EXPECT_TRUE(asNobody.healthy) << asNobody.error;
}

TEST(CommandProbe, AUserItCannotBecomeFailsTheProbeWithTheReason) {
  auto probe = command("true");
  probe.runAs = "octolaunch-no-such-user";
  auto result = runProbe(probe);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.status, "");
  EXPECT_EQ(result.error,
            "cannot start: run_as \"octolaunch-no-such-user\": no such user on this host; the "
            "command was not run");
}

// With SIGCHLD ignored the kernel reaps children itself: the exit status is unknown, which must
// not read as healthy.
TEST(CommandProbe, UncollectableExitStatusIsNotHealthy) {
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGCHLD, &ignore, &previous), 0);
  auto result = runProbe(command("exit 0"));
  auto sync = services::runShellCommand("exit 0", std::chrono::seconds(5), 1024);
  ::sigaction(SIGCHLD, &previous, nullptr);
  EXPECT_FALSE(result.healthy);
  EXPECT_EQ(result.error, "exit status unknown (waitpid failed)");
  EXPECT_FALSE(sync.ok());
  EXPECT_EQ(sync.error, "exit status unknown (waitpid failed)");
}

}  // namespace
}  // namespace octolaunch::sources
