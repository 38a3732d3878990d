// The release routes and CLI commands end to end in one process: the real LMDB store in a temp
// dir, the real HTTP server on port 0, the real `octolaunch` CLI code talking to it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "collector/cli/cli_app.h"
#include "collector/cli/exit_code.h"
#include "collector/http/http_server.h"
#include "collector/releases/release_service.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/store_env.h"
#include "scenario.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::analysis {
namespace {

using nlohmann::json;
using octolaunch::testing::TempDir;
using testing::at;
using testing::Scenario;

class FixedClock final : public Clock {
 public:
  std::int64_t nowNs() const override { return now; }
  std::int64_t monotonicNs() const override { return now; }
  std::int64_t now = at(3600);
};

class ReleaseApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<lmdb::Env>(openCollectorEnv(dir_.path(), std::size_t{64} << 20));
    events_ = std::make_unique<LmdbEventStore>(*env_, clock_);
    releases_ = std::make_unique<LmdbReleaseStore>(*env_);
    api_ = std::make_unique<http::ApiContext>(
        http::ApiContext{*events_, *releases_, writer_, clock_, {}});
    api_->analysis = &options_;
    server_ = std::make_unique<http::HttpServer>(*api_, http::HttpOptions{.threads = 2});
    port_ = server_->bind("127.0.0.1", 0);
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    server_->stop();
    thread_.join();
  }

  // Commits the scenario's events, one batch per agent, like ingest does.
  void store(const Scenario& s) {
    std::map<std::string, std::vector<schema::Event::Reader>> byAgent;
    for (auto e : s.events()) byAgent[e.getAgentId().cStr()].push_back(e);
    std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages;
    std::vector<IngestBatch> batches;
    std::vector<std::string> hosts;
    hosts.reserve(byAgent.size());
    for (auto& [agent, list] : byAgent) {
      messages.push_back(std::make_unique<capnp::MallocMessageBuilder>());
      auto out = messages.back()->getRoot<capnp::AnyPointer>().initAs<capnp::List<schema::Event>>(
          static_cast<unsigned>(list.size()));
      for (unsigned i = 0; i < list.size(); ++i) out.setWithCaveats(i, list[i]);
      hosts.push_back(list.front().getHost().cStr());
      batches.push_back(
          {list.front().getAgentId().cStr(), list.front().getEpoch(), hosts.back(),
           messages.back()->getRoot<capnp::AnyPointer>().getAs<capnp::List<schema::Event>>()});
    }
    events_->commitBatches(batches);
  }

  int cli(std::vector<std::string> args, std::string* out, std::string* err = nullptr) {
    std::string url = "--url=http://127.0.0.1:" + std::to_string(port_);
    std::vector<const char*> argv = {"octolaunch", url.c_str()};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream o, e;
    int rc = cli::runCli(static_cast<int>(argv.size()), argv.data(), o, e);
    *out = o.str();
    if (err) *err = e.str();
    return rc;
  }

  TempDir dir_;
  FixedClock clock_;
  InlineWriteSerializer writer_;
  AnalysisOptions options_;
  std::unique_ptr<lmdb::Env> env_;
  std::unique_ptr<LmdbEventStore> events_;
  std::unique_ptr<LmdbReleaseStore> releases_;
  std::unique_ptr<http::ApiContext> api_;
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

const std::string kDigest =
    "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

TEST_F(ReleaseApiTest, RegistrationMergesAndConflictsNameTheFields) {
  std::string out, err;
  ASSERT_EQ(cli({"release", "create", "--id", "r42", "--service", "api", "--commit", "abc",
                 "--artifact-digest", kDigest, "--ci-job-url", "https://ci/job/1", "--target-host",
                 "web-1"},
                &out, &err),
            0)
      << err;
  EXPECT_EQ(out, "registered release r42 (api)\n");
  // A test job registers the same release: its job URL and target accumulate.
  ASSERT_EQ(cli({"--json", "release", "create", "--id", "r42", "--service", "api", "--ci-job-url",
                 "https://ci/job/2", "--target-host", "web-2"},
                &out, &err),
            0)
      << err;
  json merged = json::parse(out);
  EXPECT_EQ(merged["ci_job_urls"], json({"https://ci/job/1", "https://ci/job/2"}));
  EXPECT_EQ(merged["target_hosts"], json({"web-1", "web-2"}));
  EXPECT_EQ(merged["commit"], "abc");
  // A different commit and digest for the same id: 409 naming both.
  EXPECT_NE(cli({"release", "create", "--id", "r42", "--service", "api", "--commit", "def",
                 "--artifact-digest", "sha256:ffff"},
                &out, &err),
            0);
  EXPECT_NE(err.find("commit, artifact_digest"), std::string::npos) << err;
  httplib::Client client("127.0.0.1", port_);
  auto res = client.Post("/api/v1/releases", R"({"id":"r42","service":"web"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  json conflict = json::parse(res->body);
  EXPECT_EQ(conflict["conflicts"][0]["field"], "service");
  EXPECT_EQ(conflict["conflicts"][0]["registered"], "api");
  EXPECT_EQ(conflict["conflicts"][0]["requested"], "web");
  // Stages: unknown release is 404 (not found); a known one records the stage and its job URL.
  EXPECT_EQ(cli({"release", "stage", "nope", "--name", "build", "--status", "ok"}, &out, &err),
            static_cast<int>(cli::ExitCode::notFound));
  EXPECT_EQ(cli({"release", "stage", "r42", "--name", "build", "--status", "bogus"}, &out, &err),
            2);
  ASSERT_EQ(cli({"release", "stage", "r42", "--name", "push", "--status", "failed", "--job-url",
                 "https://ci/job/3"},
                &out, &err),
            0)
      << err;
  ASSERT_EQ(cli({"--json", "release", "show", "r42"}, &out, &err), 0) << err;
  json shown = json::parse(out);
  EXPECT_EQ(shown["status"], "pipeline_failed");
  EXPECT_EQ(shown["hosts_total"], 2);
  EXPECT_EQ(shown["hosts_pending"], 2);
  EXPECT_EQ(shown["stages"][0]["job_url"], "https://ci/job/3");
  // why: the pipeline cause points at the push job.
  ASSERT_EQ(cli({"why", "r42"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("pipeline stage 'push' failed: the release never reached a host"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("https://ci/job/3"), std::string::npos) << out;
}

TEST_F(ReleaseApiTest, CausesTimelineAndDriftOverTheStore) {
  Scenario s;
  for (const auto& h : {"web-1", "web-2", "web-3"}) {
    s.deployStart(h, 0, "r42", "api");
    s.fingerprint(h, 1, "r42", "api", true,
                  {{"/etc/api/api.toml", "file", std::string(h) == "web-3" ? "41f0" : "9a1c"}});
  }
  s.hook("web-1", 30, "r42", "api", "migrate", "./migrate.sh", 0, {"applied 2 migrations"}, 20);
  s.hook("web-3", 31, "r42", "api", "migrate", "./migrate.sh", 0, {"applied 2 migrations"}, 20);
  s.diskFull("web-2", 25, "/var/lib/api", 99.2);
  s.hook("web-2", 32, "r42", "api", "migrate", "./migrate.sh", 1,
         {"!could not extend file \"base/16384/24576\": No space left on device"}, 20);
  s.deployFinish("web-2", 33, "r42", "api", false);
  s.deployFinish("web-1", 40, "r42", "api", true);
  s.deployFinish("web-3", 40, "r42", "api", true);
  s.diskFull("web-1", -500, "/var/lib/api", 99);  // before the window, still full: context
  store(s);
  std::string out, err;
  // Registered after the rollout: linked retroactively.
  ASSERT_EQ(cli({"release", "create", "--id", "r42", "--service", "api", "--ci-job-url",
                 "https://ci/job/9"},
                &out, &err),
            0)
      << err;
  ASSERT_EQ(cli({"--json", "why", "r42"}, &out, &err), 0) << err;
  json causes = json::parse(out);
  EXPECT_EQ(causes["release"], "r42");
  EXPECT_EQ(causes["status"], "partially_failed");
  ASSERT_FALSE(causes["causes"].empty());
  const json& top = causes["causes"][0];
  EXPECT_EQ(top["category"], "resource-exhaustion");
  EXPECT_EQ(top["hosts_affected"], 1);
  EXPECT_EQ(top["hosts_total"], 3);
  EXPECT_EQ(top["evidence"][0]["agent_id"], "agent-web-2");
  EXPECT_EQ(top["evidence"][0]["kind"], "disk.full");
  bool job = false;
  for (const auto& o : top["open_first"]) job |= o.value("url", "") == "https://ci/job/9";
  EXPECT_TRUE(job);
  ASSERT_EQ(cli({"why", "r42"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("disk full on /var/lib/api (99%) on web-2 (1 of 3 hosts) during migrate"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("symptom"), std::string::npos) << out;

  ASSERT_EQ(cli({"--json", "timeline", "r42"}, &out, &err), 0) << err;
  json t = json::parse(out);
  EXPECT_EQ(t["hosts"].size(), 3u);
  EXPECT_EQ(t["events_total"], s.size());  // with the disk.full still present at the start
  ASSERT_EQ(cli({"timeline", "r42"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("host web-2: failed"), std::string::npos) << out;
  EXPECT_NE(out.find("No space left on device"), std::string::npos) << out;

  ASSERT_EQ(cli({"drift", "--service", "api", "--since", std::to_string(at(-10))}, &out, &err), 1)
      << err;
  EXPECT_NE(out.find("web-3"), std::string::npos) << out;
  EXPECT_NE(out.find("/etc/api/api.toml"), std::string::npos) << out;
  EXPECT_EQ(cli({"drift", "--service", "billing", "--since", std::to_string(at(-10))}, &out, &err),
            0)
      << err;
  EXPECT_EQ(cli({"why", "r404"}, &out, &err), static_cast<int>(cli::ExitCode::notFound));
}

TEST_F(ReleaseApiTest, ReleasesListNewestFirstWithTheirStatus) {
  Scenario s;
  s.deployStart("web-1", 0, "api-1", "api");
  s.hook("web-1", 10, "api-1", "api", "migrate", "./migrate.sh", 0, {"ok"});
  s.deployFinish("web-1", 11, "api-1", "api", true);
  s.deployStart("web-1", 100, "api-2", "api");
  s.hook("web-1", 110, "api-2", "api", "migrate", "./migrate.sh", 4, {"!boom"});
  s.deployFinish("web-1", 111, "api-2", "api", false);
  store(s);
  releases_->put(
      "api-1", {{"id", "api-1"}, {"service", "api"}, {"version", "1.0"}, {"created_ns", at(-10)}});
  releases_->put("api-2",
                 {{"id", "api-2"}, {"service", "api"}, {"version", "1.1"}, {"created_ns", at(90)}});
  releases_->put("web-9", {{"id", "web-9"}, {"service", "web"}, {"created_ns", at(200)}});
  std::string out, err;
  ASSERT_EQ(cli({"--json", "releases", "--service", "api"}, &out, &err), 0) << err;
  json list = json::parse(out);
  EXPECT_EQ(list["total"], 2);
  ASSERT_EQ(list["releases"].size(), 2u);
  EXPECT_EQ(list["releases"][0]["id"], "api-2");
  EXPECT_EQ(list["releases"][0]["status"], "failed");
  EXPECT_EQ(list["releases"][0]["hosts_failed"], 1);
  EXPECT_EQ(list["releases"][1]["id"], "api-1");
  EXPECT_EQ(list["releases"][1]["status"], "succeeded");
  EXPECT_FALSE(list["releases"][0].contains("hosts"));
  ASSERT_EQ(cli({"releases", "--limit", "1"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("web-9"), std::string::npos) << out;
  EXPECT_EQ(out.find("api-1"), std::string::npos) << out;
  EXPECT_NE(err.find("(1 of 3 releases; --limit for more)"), std::string::npos) << err;
  EXPECT_EQ(cli({"releases", "--limit", "0"}, &out, &err), 2);  // 400 from the collector: usage
  // Status words are painted only when asked (or on a terminal); alignment ignores the colour
  // codes.
  ASSERT_EQ(cli({"--color", "always", "releases", "--service", "api"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("\x1b[31mfailed\x1b[0m     1/1"), std::string::npos) << out;
  EXPECT_NE(out.find("\x1b[32msucceeded\x1b[0m  0/1"), std::string::npos) << out;
  ASSERT_EQ(cli({"releases", "--service", "api"}, &out, &err), 0) << err;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << "colour on an output that is not a terminal";
  EXPECT_EQ(cli({"--color", "sometimes", "releases"}, &out, &err), 2);
}

// Causes and the release view skip stdout hook lines in the store's index; what they answer must
// not change: compare with an analysis that read every event.
TEST_F(ReleaseApiTest, SkippingStdoutLinesChangesNoAnswer) {
  Scenario s;
  std::vector<std::string> lines;
  for (int i = 0; i < 200; ++i) lines.push_back("step " + std::to_string(i));
  lines.push_back("!ERROR: relation \"orders\" already exists");
  s.deployStart("web-1", 0, "r7", "api");
  s.hook("web-1", 30, "r7", "api", "migrate", "./migrate.sh", 1, lines, 20);
  s.deployFinish("web-1", 31, "r7", "api", false);
  s.deployStart("web-2", 0, "r7", "api");
  s.hook("web-2", 30, "r7", "api", "migrate", "./migrate.sh", 0, {"step 1", "step 2"}, 20);
  s.deployFinish("web-2", 31, "r7", "api", true);
  // web-3 runs hooks only and its first one is still printing: only stdout lines so far, and a
  // unit of the service failing on it right after.
  for (int i = 0; i < 50; ++i)
    s.output("web-3", 5 + i * 0.1, "r7", "api", "migrate", "row " + std::to_string(i));
  s.unitFailed("web-3", 12, "api.service", "exit-code", 1);
  // Another release's stdout lines on the same host, inside the window.
  s.output("web-2", 10, "r6", "api", "migrate", "older release line");
  store(s);
  releases_->put("r7", {{"id", "r7"},
                        {"service", "api"},
                        {"ci_job_url", "https://ci/job/7"},
                        {"created_ns", at(-60)}});
  releases::ReleaseService service(*events_, *releases_, writer_, clock_, options_);
  auto lean = service.analyze("r7", Detail::withoutHookStdout);
  auto full = service.analyze("r7", Detail::all);
  ASSERT_TRUE(lean && full);
  EXPECT_EQ(lean->causesJson(), full->causesJson());
  EXPECT_EQ(lean->viewJson(), full->viewJson());
  EXPECT_EQ(lean->viewJson()["hosts_total"], 3);
  EXPECT_LT(lean->eventsRead + 250, full->eventsRead);  // the stdout lines were not read
  // The failed hook's stderr line is still evidence.
  EXPECT_NE(lean->causesJson().dump().find("already exists"), std::string::npos)
      << lean->causesJson().dump(2);
}

}  // namespace
}  // namespace octolaunch::analysis
