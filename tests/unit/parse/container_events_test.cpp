// Container events, inspect and image bodies captured from podman 4.3.1 here and Docker (public).
#include "agent/parse/container_events.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include "agent/parse/text_util.h"
#include "tests/unit/parse/fixture.h"

namespace octolaunch::parse {
namespace {

std::vector<ContainerFailure> failuresOf(const std::string& file, std::size_t* skipped = nullptr) {
  std::string text = test::fixture(file);
  ContainerEventTracker tracker;
  std::vector<ContainerFailure> out;
  for (auto line : splitLines(text)) {
    auto e = parseContainerEvent(line);
    if (!e) {
      if (skipped) ++*skipped;
      continue;
    }
    if (auto f = tracker.feed(*e)) out.push_back(std::move(*f));
  }
  return out;
}

constexpr const char* kExit1 = "38365e538f603b1aa74513860573a763a5835d3268233d167052873985770221";
constexpr const char* kNope = "bc8941b4e4fd2b16a7611f0a76b68bb693d34e4c2688466ba23535725c471c47";
constexpr const char* kOom = "6ce756ab616023d415b0346e0a6be296161930cb4fb2d5886f8fc50f15c75e41";
constexpr const char* kKilled = "db6ba375bd7f5b4147c4f3f05364ffe4125378f8f68faca6b3789651dc184a59";

void expectPodmanRuns(const std::vector<ContainerFailure>& f, const std::string& die) {
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].containerId, kExit1);
  EXPECT_EQ(f[0].name, "ol-exit1");
  EXPECT_EQ(f[0].image, "localhost/bb:1");
  EXPECT_EQ(f[0].exitCode, 1);
  EXPECT_EQ(f[0].action, die);
  EXPECT_EQ(f[0].kind, ContainerFailure::Kind::failed);
  EXPECT_EQ(f[0].timeNs, 1795847171960461060);
  EXPECT_EQ(f[1].containerId, kNope);  // never started: only create + cleanup
  EXPECT_EQ(f[1].action, "start-failed");
  EXPECT_EQ(f[1].exitCode, -1);
  EXPECT_EQ(f[2].containerId, kOom);
  EXPECT_EQ(f[2].exitCode, 137);
  EXPECT_FALSE(f[2].oomKilled);  // podman sends no oom event: only inspect can tell
  EXPECT_EQ(f[3].containerId, kKilled);
  EXPECT_EQ(f[3].exitCode, 137);
  EXPECT_FALSE(f[3].oomKilled);  // podman kill: 137 and no OOM
  EXPECT_EQ(f[4].name, "ol-api-nope");
  EXPECT_EQ(f[4].action, "start-failed");
  EXPECT_EQ(f[5].name, "ol-api-oom");
}

TEST(ContainerEvents, PodmanDockerApiStream) {
  std::size_t skipped = 0;
  auto f = failuresOf("docker/podman-4.3.1-api-events.jsonl", &skipped);
  EXPECT_EQ(skipped, 0u);
  expectPodmanRuns(f, "die");
}

TEST(ContainerEvents, PodmanCliStream) {
  expectPodmanRuns(failuresOf("docker/podman-4.3.1-cli-events.jsonl"), "died");
}

TEST(ContainerEvents, SharedSamples) {
  for (const char* file : {"docker/podman-4.3.1-shared-sample-api-events.jsonl",
                           "docker/podman-4.3.1-shared-sample-cli-events.jsonl"}) {
    SCOPED_TRACE(file);
    auto f = failuresOf(file);
    ASSERT_EQ(f.size(), 3u);
    EXPECT_EQ(f[0].name, "smp-false");
    EXPECT_EQ(f[0].exitCode, 1);
    EXPECT_EQ(f[1].name, "smp-nope");
    EXPECT_EQ(f[1].action, "start-failed");
    EXPECT_EQ(f[2].name, "smp-oom");
    EXPECT_EQ(f[2].exitCode, 137);
  }
}

TEST(ContainerEvents, Docker19OomEvent) {
  auto f = failuresOf("docker/public-docker-1.9-events-oom.jsonl");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, ContainerFailure::Kind::oom);
  EXPECT_TRUE(f[0].oomKilled);
  EXPECT_EQ(f[0].containerId, "36eb96d6c134895854e77f65ac47955b6ee08eb62bceee37cc605157f1c9482b");
  EXPECT_EQ(f[0].image, "9e0d5e071a2b");
  EXPECT_EQ(f[0].timeNs, 1449497871593721048);
  // Docker then sends die 137: it becomes a failure carrying oom_killed from the oom event.
  ContainerEventTracker tracker;
  auto oom = parseContainerEvent(R"({"status":"oom","id":"c1","time":1})");
  auto die = parseContainerEvent(
      R"({"Type":"container","Action":"die","Actor":{"ID":"c1","Attributes":{"exitCode":"137"}},"time":2})");
  ASSERT_TRUE(oom && die);
  EXPECT_TRUE(tracker.feed(*oom));
  auto failed = tracker.feed(*die);
  ASSERT_TRUE(failed);
  EXPECT_TRUE(failed->oomKilled);
}

TEST(ContainerEvents, ApiExampleFields) {
  auto e = parseContainerEvent(test::fixture("docker/public-docker-api-1.32-event-example.json"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, "container");
  EXPECT_EQ(e->action, "create");
  EXPECT_EQ(e->id, "ede54ee1afda366ab42f824e8a5ffd195155d853ceaec74a927f249ea270c743");
  EXPECT_EQ(e->name, "my-container");
  EXPECT_EQ(e->image, "alpine");
  EXPECT_EQ(e->timeNs, 1461943101LL * 1'000'000'000);
}

TEST(ContainerInspect, PodmanBodies) {
  auto oom = parseContainerInspect(test::fixture("docker/podman-4.3.1-inspect-ol-oom.json"));
  ASSERT_TRUE(oom);
  EXPECT_EQ(oom->id, kOom);
  EXPECT_EQ(oom->name, "ol-oom");
  EXPECT_EQ(oom->image, "localhost/bb:1");
  EXPECT_EQ(oom->imageId,
            "sha256:1f7607a3e6109bbdb7c5cf166c91a6ad61191d2fc2625d76c06a4d135d0f786e");
  EXPECT_EQ(oom->status, "exited");
  EXPECT_EQ(oom->exitCode, 137);
  EXPECT_TRUE(oom->oomKilled);
  auto killed = parseContainerInspect(test::fixture("docker/podman-4.3.1-inspect-ol-killed.json"));
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->exitCode, 137);
  EXPECT_FALSE(killed->oomKilled);
  auto nope = parseContainerInspect(test::fixture("docker/podman-4.3.1-inspect-ol-nope.json"));
  ASSERT_TRUE(nope);
  EXPECT_EQ(nope->status, "created");
  EXPECT_EQ(nope->error, "");  // podman 4.3.1 keeps no State.Error for the failed start
}

TEST(ContainerInspect, ApplyToEventFailures) {
  auto f = failuresOf("docker/podman-4.3.1-api-events.jsonl");
  ASSERT_EQ(f.size(), 6u);
  auto oom = parseContainerInspect(test::fixture("docker/podman-4.3.1-inspect-ol-oom.json"));
  auto nope = parseContainerInspect(test::fixture("docker/podman-4.3.1-inspect-ol-nope.json"));
  ASSERT_TRUE(oom && nope);
  applyInspect(f[2], *oom);
  EXPECT_TRUE(f[2].oomKilled);
  EXPECT_EQ(f[2].exitCode, 137);
  applyInspect(f[1], *nope);
  EXPECT_EQ(f[1].exitCode, -1);  // a never-started container's 0 is no exit code
  auto digests = parseImageRepoDigests(test::fixture("docker/podman-4.3.1-image-bb.json"));
  ASSERT_TRUE(digests);
  EXPECT_EQ(
      *digests,
      (std::vector<std::string>{
          "localhost/bb@sha256:41c38448b61fbcc212660a2b5eb72ba72122477bdddfbaf38be83d328bfca9ab"}));
  f[2].imageDigests = *digests;
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::ContainerFailure>();
  fillContainerFailure(b, f[2]);
  auto r = b.asReader();
  EXPECT_EQ(std::string(r.getContainerId().cStr()), kOom);
  EXPECT_EQ(r.getExitCode(), 137);
  EXPECT_TRUE(r.getOomKilled());
  ASSERT_EQ(r.getImageDigests().size(), 1u);
}

TEST(ContainerEvents, NotEventsAreRejectedWithAReason) {
  std::string error;
  EXPECT_FALSE(
      parseContainerEvent(test::fixture("docker/podman-4.3.1-api-start-error.json"), &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(parseContainerEvent("", &error));
  EXPECT_FALSE(parseContainerInspect("[]", &error));
  EXPECT_FALSE(parseImageRepoDigests("nope", &error));
  EXPECT_FALSE(parseContainerEvent(std::string(50000, '{'), &error));
}

}  // namespace
}  // namespace octolaunch::parse
