// The PSI source against the real kernel: triggers written to the real pressure files, and real
// CPU pressure made by busy processes in a cgroup v2 directory of their own (its cpu.pressure
// counts only them, so other load on the machine cannot hold the state raised).
#include "agent/sources/psi/psi_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/fake_sink.h"
#include "tests/support/io_thread.h"
#include "tests/support/skip.h"
#include "tests/support/wait.h"

namespace octolaunch::sources {
namespace {

using namespace std::chrono_literals;
using testing::FakeSink;
using testing::IoThread;

const std::filesystem::path kUnified = "/sys/fs/cgroup/unified";

// A cgroup v2 directory of the test's own, and busy processes in it.
class BusyCgroup final {
 public:
  BusyCgroup() {
    static std::atomic<int> counter{0};
    path_ = kUnified /
            ("octolaunch-test-psi-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directory(path_);
  }
  ~BusyCgroup() {
    stopProcesses();
    testing::waitUntil([&] { return ::rmdir(path_.c_str()) == 0 || errno != EBUSY; }, 1s, 10ms);
  }
  // Forks n processes that join the cgroup and spin.
  void spawnBusy(int n) {
    const std::string procs = (path_ / "cgroup.procs").string();
    for (int i = 0; i < n; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        // "0" moves the writer itself (cgroup v2); no allocation after fork in a threaded parent.
        const int fd = ::open(procs.c_str(), O_WRONLY);
        if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(90);
        ::close(fd);
        for (;;) __asm__ volatile("" ::: "memory");  // spin
      }
      pids_.push_back(pid);
    }
  }
  void stopProcesses() {
    for (pid_t pid : pids_) ::kill(pid, SIGKILL);
    for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
    pids_.clear();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::vector<pid_t> pids_;
};

std::string psiUnavailable() {
  if (!std::filesystem::exists("/proc/pressure/cpu")) return "needs PSI (/proc/pressure)";
  if (::geteuid() != 0) return "needs root to write PSI triggers and make cgroups";
  if (!std::filesystem::exists(kUnified / "cpu.pressure"))
    return "needs a cgroup v2 hierarchy with PSI at /sys/fs/cgroup/unified";
  return {};
}

bool has(const std::vector<nlohmann::json>& events, const std::string& kind,
         const std::string& state) {
  for (const auto& e : events) {
    if (e.value("kind", "") == kind && e["data"].value("state", "") == state) return true;
  }
  return false;
}

// A raised then a cleared event: the cleared one names its episode (when raised, the peaks).
void expectEpisode(const std::vector<nlohmann::json>& events) {
  ASSERT_EQ(events.size(), 2u);
  const auto& raised = events[0];
  const auto& cleared = events[1]["data"];
  EXPECT_FALSE(raised["data"].value("at_start", false));
  EXPECT_EQ(cleared.value("state", ""), "cleared");
  EXPECT_EQ(cleared.value("raised_ns", std::int64_t{0}), raised.value("time_ns", std::int64_t{-1}));
  const double peak = cleared.value("peak_some_avg10", 0.0);
  EXPECT_GE(peak, raised["data"].value("some_avg10", 0.0));
  EXPECT_GE(peak, cleared.value("some_avg10", 0.0));
  EXPECT_GE(cleared.value("peak_full_avg10", -1.0), 0.0);
}

class PsiSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = psiUnavailable(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  }
  FakeSink sink_;
  SystemClock clock_;
};

TEST_F(PsiSourceTest, RealPressureFilesAcceptTheDefaultTriggerAndRefuseAOneSecondWindow) {
  IoThread io;
  EventOut out(sink_, clock_);
  {
    PsiSource source(io.io(), out, PsiConfig{});
    ASSERT_TRUE(io.run([&] { return source.start(); }));
    for (auto r : {parse::PsiResource::memory, parse::PsiResource::io, parse::PsiResource::cpu}) {
      EXPECT_EQ(source.mode(r), PsiSource::Mode::trigger) << parse::psiResourceName(r);
    }
    io.run([&] { source.stop(); });
  }
  PsiConfig refused;
  refused.triggerWindowUs = 1'000'000;  // this kernel answers EINVAL
  PsiSource source(io.io(), out, refused);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  EXPECT_EQ(source.mode(parse::PsiResource::memory), PsiSource::Mode::polling);
  io.run([&] { source.stop(); });
}

// CPU pressure in busy's cgroup only, polled every 200 ms, cleared below 20 % avg10.
PsiConfig cpuOf(const BusyCgroup& busy) {
  PsiConfig config;
  config.dir = busy.path();
  config.resources = {"cpu"};
  config.clearAvg10Percent = 20;
  config.pollIntervalMs = 200;
  return config;
}

TEST_F(PsiSourceTest, KernelTriggerRaisesOnRealCpuPressureAndClearsWhenItIsGone) {
  BusyCgroup busy;
  IoThread io;
  EventOut out(sink_, clock_);
  PsiConfig config = cpuOf(busy);
  config.triggerStallUs = 500'000;  // 25 % of a 2 s window
  config.someAvg10Percent = 30;
  PsiSource source(io.io(), out, config);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  ASSERT_EQ(source.mode(parse::PsiResource::cpu), PsiSource::Mode::trigger);
  EXPECT_FALSE(sink_.waitFor([](const auto& e) { return !e.empty(); }, 500ms))
      << "an idle cgroup raised pressure";

  busy.spawnBusy(3);  // three busy processes on this machine's two cores
  const bool raised =
      sink_.waitFor([](const auto& e) { return has(e, "pressure.cpu", "raised"); }, 10s);
  busy.stopProcesses();
  ASSERT_TRUE(raised) << "no pressure.cpu raised within 10 s of three busy processes on two cores";
  const auto first = sink_.eventsOfKind("pressure.cpu").at(0)["data"];
  EXPECT_EQ(first.value("stall_us", 0), 500000);
  EXPECT_EQ(first.value("window_us", 0), 2000000);
  ASSERT_TRUE(sink_.waitFor([](const auto& e) { return has(e, "pressure.cpu", "cleared"); }, 40s))
      << "pressure.cpu never cleared after the busy processes were killed";
  EXPECT_EQ(sink_.eventsOfKind("pressure.cpu").size(), 2u);
  io.run([&] { source.stop(); });
  expectEpisode(sink_.eventsOfKind("pressure.cpu"));
}

TEST_F(PsiSourceTest, PollingFallbackRaisesAndClearsOnRealCpuPressure) {
  BusyCgroup busy;
  IoThread io;
  EventOut out(sink_, clock_);
  PsiConfig config = cpuOf(busy);
  config.triggerWindowUs = 1'000'000;  // refused by this kernel -> polling
  config.someAvg10Percent = 25;
  PsiSource source(io.io(), out, config);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  ASSERT_EQ(source.mode(parse::PsiResource::cpu), PsiSource::Mode::polling);

  busy.spawnBusy(3);
  const bool raised =
      sink_.waitFor([](const auto& e) { return has(e, "pressure.cpu", "raised"); }, 15s);
  busy.stopProcesses();
  ASSERT_TRUE(raised);
  EXPECT_GE(sink_.eventsOfKind("pressure.cpu").at(0)["data"].value("some_avg10", 0.0), 25.0);
  ASSERT_TRUE(sink_.waitFor([](const auto& e) { return has(e, "pressure.cpu", "cleared"); }, 40s));
  io.run([&] { source.stop(); });
  expectEpisode(sink_.eventsOfKind("pressure.cpu"));
}

TEST_F(PsiSourceTest, PressureAlreadyHighAtStartIsRaisedAtOnceAsAtStart) {
  BusyCgroup busy;
  // Four spinners on two cores: two always wait, so "some" heads for 100 % (three give about
  // 50 %, which avg10 reaches too slowly on a quiet machine).
  busy.spawnBusy(4);
  const auto cpuSomeAvg10 = [&] {
    std::ifstream in(busy.path() / "cpu.pressure");
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& s : parse::parsePsi(text.str(), parse::PsiResource::cpu).samples)
      if (s.line == "some") return s.avg10;
    return 0.0;
  };
  ASSERT_TRUE(testing::waitUntil([&] { return cpuSomeAvg10() >= 40; }, 15s, 100ms))
      << "four busy processes on two cores never reached 40 % avg10";
  IoThread io;
  EventOut out(sink_, clock_);
  PsiConfig config = cpuOf(busy);
  config.someAvg10Percent = 25;
  config.pollIntervalMs = 60'000;  // no poll within the test: only the start can raise
  PsiSource source(io.io(), out, config);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  busy.stopProcesses();
  const auto events = sink_.eventsOfKind("pressure.cpu");  // published inside start()
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["data"].value("state", ""), "raised");
  EXPECT_TRUE(events[0]["data"].value("at_start", false));
  EXPECT_GE(events[0]["data"].value("some_avg10", 0.0), 25.0);
  io.run([&] { source.stop(); });
}

TEST(PsiSourceOff, MissingPressureFilesTurnTheSourceOff) {
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  PsiConfig config;
  config.dir = "/nonexistent/pressure";
  PsiSource source(io.io(), out, config);
  EXPECT_FALSE(io.run([&] { return source.start(); }));
}

}  // namespace
}  // namespace octolaunch::sources
