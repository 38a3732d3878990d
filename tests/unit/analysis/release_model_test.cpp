#include "collector/analysis/release_model.h"

#include <gtest/gtest.h>

namespace octolaunch::analysis {
namespace {

using nlohmann::json;

json body(const std::string& id = "r42") {
  return {{"id", id},
          {"service", "api"},
          {"commit", "9fceb02d0ae598e95dc970b74767f19372d61af8"},
          {"artifact_digest",
           "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},
          {"ci_run_url", "https://github.com/acme/api/actions/runs/7001"},
          {"ci_job_url", "https://github.com/acme/api/actions/runs/7001/job/1"},
          {"target_hosts", {"web-1", "web-2"}}};
}

TEST(ReleaseModel, ParsesAPostBody) {
  auto r = releaseFromJson(body(), 100);
  ASSERT_TRUE(r.value) << r.error;
  EXPECT_EQ(r.value->service, "api");
  EXPECT_EQ(r.value->jobUrls,
            std::vector<std::string>{"https://github.com/acme/api/actions/runs/7001/job/1"});
  EXPECT_EQ(r.value->targetHosts.size(), 2u);
  EXPECT_EQ(r.value->createdNs, 100);
}

TEST(ReleaseModel, RejectsBadInputNamingTheField) {
  auto noService = body();
  noService.erase("service");
  EXPECT_NE(releaseFromJson(noService, 0).error.find("service"), std::string::npos);
  auto badId = body("a/b");
  EXPECT_NE(releaseFromJson(badId, 0).error.find("id"), std::string::npos);
  auto badJobs = body();
  badJobs["ci_job_urls"] = {1, 2};
  EXPECT_NE(releaseFromJson(badJobs, 0).error.find("ci_job_urls"), std::string::npos);
  for (const char* url :
       {"javascript:alert(1)", "ftp://ci/x", "https://ci/a b", "https://ci/\x01"}) {
    auto badRun = body();
    badRun["ci_run_url"] = url;
    EXPECT_NE(releaseFromJson(badRun, 0).error.find("ci_run_url"), std::string::npos) << url;
    auto badJob = body();
    badJob["ci_job_urls"] = {"https://ci/ok", url};
    EXPECT_NE(releaseFromJson(badJob, 0).error.find("ci_job_urls"), std::string::npos) << url;
  }
  EXPECT_NE(stageFromJson({{"name", "build"}, {"status", "ok"}, {"job_url", "data:text/html,x"}}, 0)
                .error.find("job_url"),
            std::string::npos);
  auto badDigest = body();
  badDigest["artifact_digest"] = "2c26b46b";
  EXPECT_NE(releaseFromJson(badDigest, 0).error.find("artifact_digest"), std::string::npos);
  EXPECT_FALSE(releaseFromJson(json::array(), 0).value);
}

TEST(ReleaseModel, ReRegistrationIsIdempotentAndAccumulates) {
  Release first = *releaseFromJson(body(), 100).value;
  // The same registration again changes nothing.
  auto same = mergeRelease(first, *releaseFromJson(body(), 200).value, 200);
  EXPECT_TRUE(same.conflicts.empty());
  EXPECT_FALSE(same.changed);
  EXPECT_EQ(same.merged.updatedNs, 100);
  // A test job registers too, with another target and a version: all accumulate.
  json test = {{"id", "r42"},
               {"service", "api"},
               {"version", "1.4.2"},
               {"ci_job_url", "https://github.com/acme/api/actions/runs/7001/job/2"},
               {"target_host", "web-3"}};
  auto more = mergeRelease(first, *releaseFromJson(test, 300).value, 300);
  EXPECT_TRUE(more.changed);
  EXPECT_EQ(more.merged.jobUrls.size(), 2u);
  EXPECT_EQ(more.merged.targetHosts, (std::vector<std::string>{"web-1", "web-2", "web-3"}));
  EXPECT_EQ(more.merged.version, "1.4.2");
  EXPECT_EQ(more.merged.commit, first.commit);
  EXPECT_EQ(more.merged.createdNs, 100);
  EXPECT_EQ(more.merged.updatedNs, 300);
}

TEST(ReleaseModel, ConflictingIdentityNamesEveryDifferingField) {
  Release first = *releaseFromJson(body(), 100).value;
  json other = body();
  other["service"] = "web";
  other["artifact_digest"] = "sha256:ffff";
  auto m = mergeRelease(first, *releaseFromJson(other, 200).value, 200);
  EXPECT_EQ(m.conflicts, (std::vector<std::string>{"service", "artifact_digest"}));
  EXPECT_FALSE(m.changed);
  EXPECT_EQ(m.merged.service, "api");
}

TEST(ReleaseModel, StagesFoldToTheirLatestStatusAndKeepJobUrls) {
  Release r = *releaseFromJson(body(), 100).value;
  auto build = stageFromJson({{"name", "build"}, {"status", "started"}}, 110);
  ASSERT_TRUE(build.value);
  EXPECT_TRUE(addStage(r, *build.value, 110));
  EXPECT_TRUE(addStage(
      r,
      *stageFromJson({{"name", "build"}, {"status", "ok"}, {"job_url", "https://ci/job/9"}}, 120)
           .value,
      120));
  EXPECT_FALSE(addStage(
      r,
      *stageFromJson({{"name", "build"}, {"status", "ok"}, {"job_url", "https://ci/job/9"}}, 130)
           .value,
      130));
  EXPECT_TRUE(
      addStage(r,
               *stageFromJson(
                    {{"name", "push"}, {"status", "failed"}, {"job_url", "https://ci/job/10"}}, 140)
                    .value,
               140));
  auto states = stageStates(r);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].status, StageStatus::ok);
  EXPECT_EQ(states[0].startedNs, 110);
  EXPECT_EQ(states[1].status, StageStatus::failed);
  EXPECT_EQ(states[1].jobUrl, "https://ci/job/10");
  // The stage's job joins the release's job URLs.
  EXPECT_NE(std::find(r.jobUrls.begin(), r.jobUrls.end(), "https://ci/job/10"), r.jobUrls.end());
  EXPECT_NE(stageFromJson({{"name", "push"}, {"status", "done"}}, 0).error.find("status"),
            std::string::npos);
}

TEST(ReleaseModel, StoredDocumentRoundTrips) {
  Release r = *releaseFromJson(body(), 100).value;
  addStage(r, {"deploy", StageStatus::started, "https://ci/job/11", 150}, 150);
  json doc = releaseToJson(r);
  auto back = releaseFromJson(doc, 999);
  ASSERT_TRUE(back.value) << back.error;
  EXPECT_EQ(back.value->createdNs, 100);
  EXPECT_EQ(back.value->stages, r.stages);
  EXPECT_EQ(back.value->jobUrls, r.jobUrls);
  EXPECT_EQ(deployJobUrl(*back.value), "https://ci/job/11");
}

}  // namespace
}  // namespace octolaunch::analysis
