// Container events, inspect and image bodies captured from podman 4.3.1 here and Docker (public).
#include "agent/parse/container_events.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <map>

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

TEST(ContainerEvents, PodmanCompatDiedWithOnlyContainerExitCode) {
  // podman 4.x's Docker-compatible API before "die": the exit code only in containerExitCode;
  // the remove that follows (exit code reset to 0) is not a second failure.
  auto f = failuresOf("docker/public-podman-4.x-compat-died-remove.jsonl");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].kind, ContainerFailure::Kind::failed);
  EXPECT_EQ(f[0].action, "died");
  EXPECT_EQ(f[0].exitCode, 3);
  EXPECT_EQ(f[0].name, "admiring_bhabha");
  EXPECT_EQ(f[0].image, "docker.io/library/debian:sid");
  EXPECT_EQ(f[0].timeNs, 1689235736846535953);
  EXPECT_FALSE(f[0].oomKilled);
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

namespace octolaunch::parse {
namespace {

// podman 4.3.1 with crun 1.8.1: `exit 3`, a command that does not exist (CLI and API), and a
// 16 MiB container OOM-killed; the Docker-API stream ("die" with exitCode and containerExitCode)
// and `podman events` ("died" with ContainerExitCode) of the same runs.
TEST(ContainerEvents, PodmanExit3MissingCommandAndOomInBothStreams) {
  for (const std::string file :
       {"docker/podman-4.3.1-api-events-ol10.jsonl", "docker/podman-4.3.1-cli-events-ol10.jsonl"}) {
    const std::string die = file.find("cli") != std::string::npos ? "died" : "die";
    std::vector<std::string> seen;
    for (const auto& f : failuresOf(file))
      seen.push_back(f.name + " " + std::to_string(f.exitCode) + " " + f.action);
    EXPECT_EQ(seen,
              (std::vector<std::string>{"ol10-exit3 3 " + die, "ol10-nope -1 start-failed",
                                        "ol10-oom 137 " + die, "ol10-api-nope -1 start-failed"}))
        << file;
  }
}

// Where podman 4.3.1 keeps crun's error: not in the events, not in either inspect's State.Error,
// but in the oci-log of the container's run directory, found through libpod's ConmonPidFile.
TEST(ContainerEvents, RuntimeErrorFromPodmansOciLog) {
  for (const std::string name : {"ol10-nope", "ol10-api-nope"}) {
    auto compat =
        parseContainerInspect(test::fixture("docker/podman-4.3.1-inspect-" + name + ".json"));
    ASSERT_TRUE(compat);
    EXPECT_EQ(compat->error, "") << name;
    EXPECT_EQ(compat->status, "created");
    EXPECT_EQ(compat->conmonPidFile, "");  // the Docker-compatible inspect does not name it
  }
  auto libpod =
      parseContainerInspect(test::fixture("docker/podman-4.3.1-libpod-inspect-ol10-nope.json"));
  ASSERT_TRUE(libpod);
  EXPECT_EQ(libpod->error, "");
  EXPECT_EQ(libpod->ociRuntime, "crun");
  EXPECT_EQ(libpod->conmonPidFile,
            "/run/containers/storage/overlay-containers/"
            "8336c86068e78822a5040011da41eaaf46d568b1fd9317ce1a3c3099893d68a0/userdata/conmon.pid");
  // The same words podman printed for `podman run ... /bin/nope` (and the API's start error).
  const auto error =
      ociLogError(test::fixture("docker/podman-4.3.1-crun-1.8.1-oci-log-ol10-nope"), "crun");
  ASSERT_TRUE(error);
  EXPECT_EQ(*error,
            "crun: executable file `/bin/nope` not found in $PATH: No such file or directory");
  EXPECT_NE(test::fixture("docker/podman-4.3.1-api-start-error-ol10-api-nope.json").find(*error),
            std::string::npos);
  EXPECT_FALSE(ociLogError("", "crun"));
  EXPECT_FALSE(ociLogError("not json\n{\"level\":\"warning\",\"msg\":\"x\"}\n", "crun"));
}

TEST(ContainerEvents, ContainerListAtStart) {
  auto list = parseContainerList(test::fixture("docker/podman-4.3.1-containers-list-all.json"));
  ASSERT_TRUE(list);
  std::map<std::string, std::string> states;
  for (const auto& c : *list) states[c.name] = c.state;
  EXPECT_EQ(states, (std::map<std::string, std::string>{{"ol10-api-nope", "created"},
                                                        {"ol10-exit3", "exited"},
                                                        {"ol10-nope", "created"},
                                                        {"ol10-oom", "exited"}}));
  EXPECT_EQ(list->at(0).image, "localhost/bb:1");
  EXPECT_FALSE(parseContainerList("{}"));
  auto exit3 = parseContainerInspect(test::fixture("docker/podman-4.3.1-inspect-ol10-exit3.json"));
  ASSERT_TRUE(exit3);
  ContainerFailure f;
  f.atStart = true;
  applyInspect(f, *exit3);
  EXPECT_EQ(f.exitCode, 3);
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::ContainerFailure>();
  fillContainerFailure(b, f);
  EXPECT_TRUE(b.getAtStart());
  EXPECT_EQ(b.getExitCode(), 3);
}

}  // namespace
}  // namespace octolaunch::parse
