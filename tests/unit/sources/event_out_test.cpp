// EventOut: what a source captured is never dropped because the spool refused an append once.
#include "agent/sources/event_out.h"

#include <gtest/gtest.h>

#include "tests/support/fake_sink.h"

namespace octolaunch::sources {
namespace {

using testing::FakeSink;
using testing::RefusingSink;

void addDiskFull(EventBatch& batch, const std::string& mount) {
  auto x = batch.add(1'764'000'000'000'000'000).getPayload().initDiskFull();
  x.setMount(mount);
  x.setState(schema::Pressure::State::RAISED);
}

std::vector<std::string> mounts(const FakeSink& sink) {
  std::vector<std::string> out;
  for (const auto& e : sink.events()) out.push_back(e["data"].value("mount", ""));
  return out;
}

TEST(EventOut, EventsTheSpoolRefusedAreHeldAndAppendedFirstWhenItRecovers) {
  FakeSink sink;
  RefusingSink refusing(sink);
  SystemClock clock;
  int holds = 0;
  EventOut out(refusing, clock, [&] { ++holds; });
  EventBatch first;
  addDiskFull(first, "/a");
  addDiskFull(first, "/b");
  EXPECT_FALSE(out.publish(first));
  EXPECT_TRUE(first.empty());
  EXPECT_TRUE(out.holding());
  EventBatch second;
  addDiskFull(second, "/c");
  EXPECT_FALSE(out.publish(second));
  EXPECT_EQ(holds, 2);
  EXPECT_EQ(out.failures(), 2u);

  refusing.refuse = false;
  EventBatch none;
  EXPECT_TRUE(out.publish(none));
  EXPECT_EQ(mounts(sink), (std::vector<std::string>{"/a", "/b", "/c"}));
  EXPECT_FALSE(out.holding());
  EXPECT_EQ(out.failures(), 0u);
  EXPECT_EQ(out.published(), 3u);
  EXPECT_EQ(out.dropped(), 0u);
}

TEST(EventOut, BeyondTheBoundTheOldestHeldEventsAreDroppedAndCounted) {
  FakeSink sink;
  RefusingSink refusing(sink);
  SystemClock clock;
  EventOut out(refusing, clock);
  EventBatch batch;
  for (std::size_t i = 0; i < EventOut::kMaxHeld + 5; ++i)
    addDiskFull(batch, "/m" + std::to_string(i));
  EXPECT_FALSE(out.publish(batch));
  EXPECT_EQ(out.dropped(), 5u);
  refusing.refuse = false;
  EventBatch none;
  ASSERT_TRUE(out.publish(none));
  const auto got = mounts(sink);
  ASSERT_EQ(got.size(), EventOut::kMaxHeld);
  EXPECT_EQ(got.front(), "/m5");
  EXPECT_EQ(got.back(), "/m" + std::to_string(EventOut::kMaxHeld + 4));
}

// The task cgroups of the three kills in tests/fixtures/kmsg/linux-6.18-memcg-v1-3kills.kmsg.
void addOomKill(EventBatch& batch, const std::string& taskMemcg, const std::string& process) {
  auto o = batch.add(1'764'000'000'000'000'000).getPayload().initOomKill();
  o.setTaskMemcg(taskMemcg);
  o.setMemcg(taskMemcg);
  o.setProcess(process);
}

TEST(EventOut, OomKillsOutsideTheHostsCgroupScopeAreNotRecorded) {
  FakeSink sink;
  SystemClock clock;
  EventOut out(sink, clock);
  out.setScope(CgroupScope("/oltest.slice/"));
  EventBatch batch;
  addOomKill(batch, "/oltest", "memhog");                               // a sibling prefix
  addOomKill(batch, "/system.slice/oltest-api.service", "memhold");     // another subtree
  addOomKill(batch, "/oltest.slice/oltest-job.service", "memhog-job");  // below the scope
  addDiskFull(batch, "/data");  // not cgroup-bound: always this host's
  auto inv = batch.add(1'764'000'000'000'000'000).getPayload().initOomInvocation();
  inv.setMemcg("/oltest.slice");
  EXPECT_TRUE(out.publish(batch));
  ASSERT_EQ(sink.events().size(), 3u);
  EXPECT_EQ(sink.events()[0]["data"].value("process", ""), "memhog-job");
  EXPECT_EQ(sink.events()[1]["kind"], "disk.full");
  EXPECT_EQ(sink.events()[2]["kind"], "oom.invocation");
  EXPECT_EQ(out.outOfScope(), 2u);
}

TEST(EventOut, WithoutAScopeEveryOomKillIsTheHosts) {
  FakeSink sink;
  SystemClock clock;
  EventOut out(sink, clock);
  out.setScope(CgroupScope("/"));
  EventBatch batch;
  addOomKill(batch, "/oltest", "memhog");
  addOomKill(batch, "/system.slice/oltest-api.service", "memhold");
  EXPECT_TRUE(out.publish(batch));
  EXPECT_EQ(sink.events().size(), 2u);
  EXPECT_EQ(out.outOfScope(), 0u);
}

}  // namespace
}  // namespace octolaunch::sources
