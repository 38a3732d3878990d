#include "agent/deploy/image_inspect.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/deploy/deploy_observation.h"
#include "agent/services/shell_command.h"
#include "tests/support/fake_sink.h"
#include "tests/support/skip.h"

namespace octolaunch::deploy {
namespace {

using services::FingerprintKey;
using services::runShellCommand;
using services::ServiceConfig;

using namespace std::chrono_literals;

TEST(PickDigest, RealPodmanRepoDigests) {
  // RepoTags/RepoDigests of tests/fixtures/docker/podman-4.3.1-image-bb.json.
  EXPECT_EQ(
      pickDigest(
          "localhost/bb:1",
          {"localhost/bb@sha256:41c38448b61fbcc212660a2b5eb72ba72122477bdddfbaf38be83d328bfca9ab"}),
      "sha256:41c38448b61fbcc212660a2b5eb72ba72122477bdddfbaf38be83d328bfca9ab");
  EXPECT_EQ(pickDigest("localhost/bb:1", {}), "");
}

TEST(PickDigest, PrefersTheImagesOwnRepository) {
  const std::vector<std::string> digests = {"docker.io/library/api@sha256:aaaa",
                                            "registry.example:5000/team/api@sha256:bbbb"};
  EXPECT_EQ(pickDigest("registry.example:5000/team/api:1.4", digests), "sha256:bbbb");
  EXPECT_EQ(pickDigest("registry.example:5000/team/api@sha256:bbbb", digests), "sha256:bbbb");
  EXPECT_EQ(pickDigest("docker.io/library/api", digests), "sha256:aaaa");
  EXPECT_EQ(pickDigest("sha256:0123", digests), "sha256:aaaa");  // an image id: the first one
}

TEST(InspectImage, RejectsWhatIsNotAReference) {
  auto obs = inspectImage("x; rm -rf /", 5s);
  EXPECT_EQ(obs.error, "not an image reference: \"x; rm -rf /\"");
  EXPECT_TRUE(obs.repoDigests.empty());
}

// A real image made with `podman import` (no network needed): it gets a localhost/ RepoDigest.
class PodmanImage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (runShellCommand("command -v podman", 5s, 4096).exitCode != 0) {
      OCTOLAUNCH_SKIP_UNLESS_CI("podman is not installed");
    }
    tag_ = "localhost/octolaunch-services-test-" + std::to_string(::getpid()) + ":1";
    container_ = "octolaunch-services-test-" + std::to_string(::getpid());
    auto imported =
        runShellCommand("d=$(mktemp -d) && echo x > $d/f && tar -C $d -c . | podman import - " +
                            tag_ + " >/dev/null; rc=$?; rm -rf $d; exit $rc",
                        60s, 65536);
    if (!imported.ok())
      OCTOLAUNCH_SKIP_UNLESS_CI("podman import failed: " + imported.error + " " + imported.output);
    made_ = true;
  }
  void TearDown() override {
    if (!made_) return;
    runShellCommand("podman rm -f " + container_ + " >/dev/null 2>&1; podman rmi -f " + tag_ +
                        " >/dev/null 2>&1",
                    60s, 65536);
  }
  std::string repository() const { return tag_.substr(0, tag_.rfind(':')); }

  std::string tag_;
  std::string container_;
  bool made_ = false;
};

TEST_F(PodmanImage, ImageRepoDigestsAndTheContainersImage) {
  auto image = inspectImage(tag_, 30s);
  ASSERT_EQ(image.error, "");
  ASSERT_EQ(image.repoDigests.size(), 1u);
  EXPECT_TRUE(image.repoDigests[0].starts_with(repository() + "@sha256:")) << image.repoDigests[0];
  EXPECT_FALSE(image.via.empty());
  const std::string digest = pickDigest(tag_, image.repoDigests);
  EXPECT_EQ(digest.size(), 7u + 64u);

  auto created =
      runShellCommand("podman create --name " + container_ + " " + tag_ + " /f", 60s, 65536);
  ASSERT_TRUE(created.ok()) << created.error << created.output;
  auto container = inspectContainerImage(container_, 30s);
  ASSERT_EQ(container.error, "");
  EXPECT_EQ(container.container, container_);
  EXPECT_EQ(container.repoDigests, image.repoDigests);

  // As deploy start records it.
  ServiceConfig service;
  service.name = "api";
  service.image = tag_;
  EventList events;
  std::vector<std::string> notes;
  SystemClock clock;
  ObserveOptions options;
  options.release = "r1";
  observeDeploy(service, FingerprintKey("k0123456789abcdef"), options, clock, events, notes);
  testing::FakeSink sink;
  auto readers = events.readers();
  sink.append(readers);
  auto json = sink.events();
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["kind"], "artifact.observed");
  EXPECT_EQ(json[0]["data"]["digest"], digest);
  EXPECT_EQ(json[0]["data"]["image_digests"][0], image.repoDigests[0]);
  EXPECT_TRUE(notes.empty());
}

TEST_F(PodmanImage, UnknownImageSaysSo) {
  auto obs = inspectImage(repository() + "-absent:9", 30s);
  EXPECT_TRUE(obs.repoDigests.empty());
  EXPECT_NE(obs.error, "");
}

}  // namespace
}  // namespace octolaunch::deploy
