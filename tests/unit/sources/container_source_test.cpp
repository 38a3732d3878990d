// The container source against real containers: rootful podman's Docker-compatible API, real
// busybox containers that exit 1, never start (missing command) and are OOM-killed under
// --memory; and the engine restarting under the source.
#include "agent/sources/containers/container_source.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tests/support/fake_sink.h"
#include "tests/support/io_thread.h"
#include "tests/support/process.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"
#include "tests/unit/sources/podman_fixture.h"

namespace octolaunch::sources {
namespace {

using namespace std::chrono_literals;
using testing::FakeSink;
using testing::IoThread;

std::string containerName(const char* what) {
  static std::atomic<int> counter{0};
  return "octolaunch-test-" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

std::vector<nlohmann::json> eventsFor(const std::vector<nlohmann::json>& events,
                                      const std::string& kind, const std::string& name) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.value("kind", "") == kind && e["data"].value("name", "") == name) out.push_back(e);
  }
  return out;
}

class ContainerSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { unavailable_ = new std::string(testing::preparePodman()); }
  static void TearDownTestSuite() { delete unavailable_; }
  void SetUp() override {
    if (!unavailable_->empty()) OCTOLAUNCH_SKIP_UNLESS_CI(*unavailable_);
    service_ = std::make_unique<testing::PodmanService>(dir_.path() / "podman.sock");
    ASSERT_TRUE(service_->ready()) << "podman system service did not create its socket";
    config_.sockets = {"/nonexistent/docker.sock", service_->socket().string()};
    config_.reconnectMaxMs = 500;
    source_ = std::make_unique<ContainerSource>(io_.io(), out_, config_);
    ASSERT_TRUE(io_.run([&] { return source_->start(); }));
    ASSERT_TRUE(
        testing::waitUntil([&] { return io_.run([&] { return source_->connected(); }); }, 5s))
        << "never connected to the events stream";
  }
  void TearDown() override {
    stopAndWait(source_);
    stopAndWait(second_);
    if (created_.empty()) return;
    std::vector<std::string> rm = {"podman", "rm", "-f"};
    rm.insert(rm.end(), created_.begin(), created_.end());
    testing::run(rm, 60s);
  }
  // Stops the source and waits until its coroutines have ended: they resume on the io thread
  // after stop() and still use the source, which must outlive them.
  void stopAndWait(std::unique_ptr<ContainerSource>& source) {
    if (!source) return;
    io_.run([&] { source->stop(); });
    EXPECT_TRUE(testing::waitUntil([&] { return io_.run([&] { return source->idle(); }); }, 10s))
        << "the source's coroutines did not end after stop()";
    source.reset();
  }
  // podman run NAME ... ; returns its exit code.
  int podmanRun(const std::string& name, std::vector<std::string> args) {
    created_.push_back(name);
    std::vector<std::string> argv = {"podman", "run", "--name", name, "--network", "none"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testing::run(argv, 60s);
    if (r.exitCode == -1) ADD_FAILURE() << "podman run " << name << " hung: " << r.err;
    return r.exitCode;
  }

  static std::string* unavailable_;
  testing::TempDir dir_;
  FakeSink sink_;
  SystemClock clock_;
  IoThread io_;
  EventOut out_{sink_, clock_};
  ContainersConfig config_;
  std::unique_ptr<testing::PodmanService> service_;
  std::unique_ptr<ContainerSource> source_;
  FakeSink secondSink_;
  EventOut secondOut_{secondSink_, clock_};
  std::unique_ptr<ContainerSource> second_;  // a test's own, started later
  std::vector<std::string> created_;
};
std::string* ContainerSourceTest::unavailable_ = nullptr;

TEST_F(ContainerSourceTest, ContainerExitingOneIsContainerFailedWithExitCodeOne) {
  const auto name = containerName("false");
  EXPECT_EQ(podmanRun(name, {"localhost/bb:1", "/bin/false"}), 1);
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) { return !eventsFor(e, "container.failed", name).empty(); }, 5s));
  const auto data = eventsFor(sink_.events(), "container.failed", name).at(0)["data"];
  EXPECT_EQ(data.value("exit_code", -1), 1);
  EXPECT_EQ(data.value("image", ""), "localhost/bb:1");
  EXPECT_EQ(data.value("container_id", "").size(), 64u);
  EXPECT_FALSE(data.value("oom_killed", true));
  EXPECT_TRUE(eventsFor(sink_.events(), "container.oom", name).empty());
}

TEST_F(ContainerSourceTest, ContainerThatNeverStartsIsContainerFailedWithTheError) {
  const auto name = containerName("nope");
  EXPECT_NE(podmanRun(name, {"localhost/bb:1", "/bin/nope"}), 0);
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) { return !eventsFor(e, "container.failed", name).empty(); }, 5s));
  const auto data = eventsFor(sink_.events(), "container.failed", name).at(0)["data"];
  EXPECT_EQ(data.value("action", ""), "start-failed") << data.dump();
  // Docker keeps the runtime's message in State.Error; podman 4.3.1 keeps it only in the
  // runtime's oci-log, which the source reads: the words podman printed.
  EXPECT_EQ(data.value("error", ""),
            "crun: executable file `/bin/nope` not found in $PATH: No such file or directory")
      << data.dump();
  EXPECT_FALSE(data.value("at_start", false));
}

TEST_F(ContainerSourceTest, ContainersDeadBeforeTheSourceStartedAreReportedAtStart) {
  stopAndWait(source_);
  const auto failed = containerName("dead-before");
  const auto clean = containerName("clean-before");
  EXPECT_EQ(podmanRun(failed, {"localhost/bb:1", "sh", "-c", "exit 3"}), 3);
  EXPECT_EQ(podmanRun(clean, {"localhost/bb:1", "true"}), 0);
  FakeSink& sink = secondSink_;
  second_ = std::make_unique<ContainerSource>(io_.io(), secondOut_, config_);
  ASSERT_TRUE(io_.run([&] { return second_->start(); }));
  ASSERT_TRUE(sink.waitFor(
      [&](const auto& e) { return !eventsFor(e, "container.failed", failed).empty(); }, 10s));
  const auto data = eventsFor(sink.events(), "container.failed", failed).at(0)["data"];
  EXPECT_TRUE(data.value("at_start", false));
  EXPECT_EQ(data.value("exit_code", -1), 3);
  EXPECT_EQ(data.value("action", ""), "exited");
  EXPECT_TRUE(eventsFor(sink.events(), "container.failed", clean).empty());
  // The stream starts where the list was taken: the death is not read again from it, and what
  // dies now is reported live.
  const auto later = containerName("dead-after");
  EXPECT_EQ(podmanRun(later, {"localhost/bb:1", "sh", "-c", "exit 4"}), 4);
  ASSERT_TRUE(sink.waitFor(
      [&](const auto& e) { return !eventsFor(e, "container.failed", later).empty(); }, 10s));
  EXPECT_FALSE(
      eventsFor(sink.events(), "container.failed", later).at(0)["data"].value("at_start", false));
  EXPECT_EQ(eventsFor(sink.events(), "container.failed", failed).size(), 1u);
}

TEST_F(ContainerSourceTest, ContainerKilledUnderItsMemoryLimitIsContainerOom) {
  const auto name = containerName("oom");
  // Doubling a shell variable passes 16 MiB within a second.
  EXPECT_EQ(podmanRun(name, {"--memory", "16m", "localhost/bb:1", "sh", "-c",
                             "a=xxxxxxxx; while :; do a=$a$a; done"}),
            137);
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) { return !eventsFor(e, "container.oom", name).empty(); }, 5s));
  const auto oom = eventsFor(sink_.events(), "container.oom", name).at(0)["data"];
  EXPECT_TRUE(oom.value("oom_killed", false));
  const auto failed = eventsFor(sink_.events(), "container.failed", name);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["data"].value("exit_code", -1), 137);
  EXPECT_TRUE(failed[0]["data"].value("oom_killed", false));
}

TEST_F(ContainerSourceTest, ReconnectsWhenTheEngineRestarts) {
  const auto connects = io_.run([&] { return source_->connects(); });
  service_->kill();
  ASSERT_TRUE(
      testing::waitUntil([&] { return !io_.run([&] { return source_->connected(); }); }, 2s))
      << "the source did not notice the engine went away";
  service_->start();
  ASSERT_TRUE(service_->ready());
  ASSERT_TRUE(testing::waitUntil(
      [&] { return io_.run([&] { return source_->connects(); }) > connects; }, 5s))
      << "no reconnect after the engine came back";
  const auto name = containerName("after-restart");
  EXPECT_EQ(podmanRun(name, {"localhost/bb:1", "sh", "-c", "exit 3"}), 3);
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) { return !eventsFor(e, "container.failed", name).empty(); }, 5s));
  EXPECT_EQ(
      eventsFor(sink_.events(), "container.failed", name).at(0)["data"].value("exit_code", -1), 3);
}

TEST(ContainerSourceOff, NoSocketTurnsTheSourceOff) {
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  ContainersConfig config;
  config.sockets = {"/nonexistent/docker.sock"};
  ContainerSource source(io.io(), out, config);
  EXPECT_FALSE(io.run([&] { return source.start(); }));
}

}  // namespace
}  // namespace octolaunch::sources
