// The kmsg source against the real kernel: a process in a real v1 memory cgroup allocates past
// its limit, the kernel's OOM killer kills it, and the source must report exactly that kill.
#include "agent/sources/kmsg/kmsg_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>

#include "agent/sources/state_file.h"
#include "tests/support/fake_sink.h"
#include "tests/support/harness.h"
#include "tests/support/io_thread.h"
#include "tests/support/skip.h"
#include "tests/unit/sources/memcg_v1.h"

namespace octolaunch::sources {
namespace {

using testing::FakeSink;
using testing::IoThread;
using testing::MemcgV1;
using testing::RefusingSink;
using testing::TempDir;
using testing::waitUntil;
using namespace std::chrono_literals;

std::string uniqueName(const char* what) {
  static std::atomic<int> counter{0};
  return "octolaunch-test-" + std::string(what) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

std::string kmsgUnavailable() {
  if (auto why = testing::memcgV1Unavailable(); !why.empty()) return why;
  if (::access("/dev/kmsg", R_OK) != 0) return "needs a readable /dev/kmsg";
  return {};
}

// The oom.kill events for pid.
std::vector<nlohmann::json> killsOf(const std::vector<nlohmann::json>& events, pid_t pid) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.value("kind", "") == "oom.kill" && e["data"].value("pid", 0) == pid) out.push_back(e);
  }
  return out;
}

// Runs a hog in a fresh 24 MiB memcg until the OOM killer kills it; returns {pid, cgroup}.
std::pair<pid_t, std::string> oomKillOnce() {
  auto memcg = std::make_unique<MemcgV1>(uniqueName("kmsg"), 24u << 20);
  const pid_t pid = memcg->spawnHog();
  const auto status = testing::waitChild(pid, 20s);
  EXPECT_TRUE(status.has_value()) << "the hog was not OOM-killed within 20 s";
  if (status) {
    EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL) << "status " << *status;
  }
  return {pid, memcg->rel()};
}

class KmsgSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = kmsgUnavailable(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  }
  std::unique_ptr<KmsgSource> startSource(IoThread& io, EventOut& out, OomLedger& ledger,
                                          const std::filesystem::path* stateDir = nullptr) {
    KmsgConfig config;
    config.recoverPreviousBoot = false;
    auto source = std::make_unique<KmsgSource>(io.io(), out, ledger, config,
                                               stateDir ? *stateDir : state_.path());
    EXPECT_TRUE(io.run([&] { return source->start(); }));
    return source;
  }
  TempDir state_;
  FakeSink sink_;
  SystemClock clock_;
};

TEST_F(KmsgSourceTest, RealMemcgOomKillBecomesOneOomKillEventWithinTwoSeconds) {
  IoThread io;
  EventOut out(sink_, clock_);
  OomLedger ledger;
  auto source = startSource(io, out, ledger);

  auto memcg = std::make_unique<MemcgV1>(uniqueName("kmsg"), 24u << 20);
  const pid_t pid = memcg->spawnHog();
  const auto status = testing::waitChild(pid, 20s);
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  const auto killed = std::chrono::steady_clock::now();

  ASSERT_TRUE(sink_.waitFor([&](const auto& events) { return !killsOf(events, pid).empty(); }, 2s))
      << "no oom.kill for pid " << pid << " within 2 s of its death";
  const auto latency = std::chrono::steady_clock::now() - killed;
  // A second event for the same kill would come from the same drain or the expiry timer (5.5 s).
  EXPECT_FALSE(
      sink_.waitFor([&](const auto& events) { return killsOf(events, pid).size() > 1; }, 6s));

  const auto kill = killsOf(sink_.events(), pid).at(0)["data"];
  EXPECT_FALSE(kill.value("process", "").empty());
  EXPECT_EQ(kill.value("constraint", ""), "CONSTRAINT_MEMCG");
  EXPECT_EQ(kill.value("memcg", ""), memcg->rel());
  EXPECT_EQ(kill.value("task_memcg", ""), memcg->rel());
  EXPECT_EQ(kill.value("killer", ""), "kernel");
  EXPECT_EQ(kill.value("source", ""), "kmsg");
  EXPECT_GT(kill.value("anon_rss_kb", 0), 10000);
  // This kill is in the ledger once (other tests' kills on this host may be there too).
  EXPECT_EQ(ledger.claim(memcg->rel(), clock_.nowNs(), std::int64_t{60'000'000'000}, 10), 1u);
  std::cout << "[ figures ] kmsg oom.kill latency after the victim's death: "
            << std::chrono::duration_cast<std::chrono::microseconds>(latency).count() << " us\n";

  io.run([&] { source->stop(); });
  const auto state = readStateFile(state_.path() / "kmsg.state");
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->at("boot_id"), currentBootId());
  EXPECT_FALSE(state->at("seq").empty());
}

TEST_F(KmsgSourceTest, RestartInTheSameBootResumesAfterTheLastSeqAndMissesNothing) {
  OomLedger ledger;
  pid_t first = 0;
  {
    IoThread io;
    EventOut out(sink_, clock_);
    auto source = startSource(io, out, ledger);
    first = oomKillOnce().first;
    ASSERT_TRUE(
        sink_.waitFor([&](const auto& events) { return !killsOf(events, first).empty(); }, 2s));
    io.run([&] { source->stop(); });
  }
  // The agent is down while another kill happens.
  const auto [second, cgroup] = oomKillOnce();
  {
    IoThread io;
    EventOut out(sink_, clock_);
    auto source = startSource(io, out, ledger);
    ASSERT_TRUE(
        sink_.waitFor([&](const auto& events) { return !killsOf(events, second).empty(); }, 2s))
        << "the kill that happened while the source was stopped was not reported after the restart";
    EXPECT_EQ(killsOf(sink_.events(), second).at(0)["data"].value("memcg", ""), cgroup);
    io.run([&] { source->stop(); });
  }
  EXPECT_EQ(killsOf(sink_.events(), first).size(), 1u)
      << "the first kill was reported again after the restart";
  EXPECT_EQ(killsOf(sink_.events(), second).size(), 1u);
}

TEST_F(KmsgSourceTest, KillsTheSpoolRefusedAreHeldDeliveredLaterAndReadAgainAfterARestart) {
  OomLedger ledger;
  {  // A first run records a position in the state file.
    IoThread io;
    EventOut out(sink_, clock_);
    auto source = startSource(io, out, ledger);
    const pid_t first = oomKillOnce().first;
    ASSERT_TRUE(
        sink_.waitFor([&](const auto& events) { return !killsOf(events, first).empty(); }, 2s));
    io.run([&] { source->stop(); });
  }
  RefusingSink refusing(sink_);
  std::atomic<int> holds{0};
  pid_t lostIfNotHeld = 0;
  {  // The spool refuses: the kill is held, and the agent stops before the spool recovers.
    IoThread io;
    EventOut out(refusing, clock_, [&] { ++holds; });
    auto source = startSource(io, out, ledger);
    lostIfNotHeld = oomKillOnce().first;
    ASSERT_TRUE(waitUntil([&] { return refusing.refused > 0; }, 2s))
        << "the kill never reached the spool";
    EXPECT_TRUE(io.run([&] { return out.holding(); }));
    EXPECT_GT(holds.load(), 0);
    io.run([&] { source->stop(); });
  }
  EXPECT_TRUE(killsOf(sink_.events(), lostIfNotHeld).empty());
  refusing.refuse = false;
  {  // The next start reads the kill's records again.
    IoThread io;
    EventOut out(sink_, clock_);
    auto source = startSource(io, out, ledger);
    ASSERT_TRUE(sink_.waitFor(
        [&](const auto& events) { return !killsOf(events, lostIfNotHeld).empty(); }, 2s))
        << "a kill captured while the spool refused was lost across the restart";
    io.run([&] { source->stop(); });
  }
  refusing.refuse = true;
  {  // Within one run: held while refused, appended (once) by the retry after the spool recovers.
    IoThread io;
    EventOut out(refusing, clock_);
    auto source = startSource(io, out, ledger);
    const int before = refusing.refused;
    const pid_t held = oomKillOnce().first;
    ASSERT_TRUE(waitUntil([&] { return refusing.refused > before; }, 2s));
    refusing.refuse = false;
    EXPECT_TRUE(io.run([&] {
      EventBatch none;
      return out.publish(none);
    }));
    EXPECT_EQ(killsOf(sink_.events(), held).size(), 1u);
    EXPECT_FALSE(io.run([&] { return out.holding(); }));
    io.run([&] { source->stop(); });
  }
  EXPECT_EQ(killsOf(sink_.events(), lostIfNotHeld).size(), 1u);
}

// The very first run of an agent (no state file yet): its position is known from the start, so a
// kill the spool refused before anything was saved is read again at the next start.
TEST_F(KmsgSourceTest, AFreshStateAlreadyKnowsItsPositionSoARefusedFirstKillIsNotLost) {
  OomLedger ledger;
  TempDir fresh;
  RefusingSink refusing(sink_);
  pid_t first = 0;
  {
    IoThread io;
    EventOut out(refusing, clock_);
    auto source = startSource(io, out, ledger, &fresh.path());
    first = oomKillOnce().first;
    ASSERT_TRUE(waitUntil([&] { return refusing.refused > 0; }, 2s))
        << "the kill never reached the spool";
    io.run([&] { source->stop(); });
  }
  const auto state = readStateFile(fresh.path() / "kmsg.state");
  ASSERT_TRUE(state.has_value());
  EXPECT_TRUE(state->contains("seq")) << "the first run saved no kmsg position";
  {
    IoThread io;
    EventOut out(sink_, clock_);
    auto source = startSource(io, out, ledger, &fresh.path());
    ASSERT_TRUE(
        sink_.waitFor([&](const auto& events) { return !killsOf(events, first).empty(); }, 2s))
        << "the first run's refused kill was lost";
    io.run([&] { source->stop(); });
  }
}

TEST_F(KmsgSourceTest, FreshStateStartsAtTheEndAndDoesNotReplayOldKills) {
  const auto [old, cgroup] = oomKillOnce();
  IoThread io;
  EventOut out(sink_, clock_);
  OomLedger ledger;
  auto source = startSource(io, out, ledger);
  const auto [fresh, cgroup2] = oomKillOnce();
  ASSERT_TRUE(
      sink_.waitFor([&](const auto& events) { return !killsOf(events, fresh).empty(); }, 2s));
  EXPECT_TRUE(killsOf(sink_.events(), old).empty())
      << "a kill from before the first start was replayed";
  io.run([&] { source->stop(); });
}

TEST(KmsgSourceOff, MissingDeviceTurnsTheSourceOff) {
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  OomLedger ledger;
  KmsgConfig config;
  config.device = "/nonexistent/kmsg";
  KmsgSource source(io.io(), out, ledger, config, std::filesystem::temp_directory_path());
  EXPECT_FALSE(io.run([&] { return source.start(); }));
  io.run([&] { source.stop(); });
}

}  // namespace
}  // namespace octolaunch::sources
