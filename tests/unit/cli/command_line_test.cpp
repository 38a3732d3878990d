// The command line in-process: help and examples of every command, suggestions for mistyped
// words, time flags refused before any request, and the exit code of each kind of answer from a
// stand-in collector on a real socket.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "collector/cli/cli_app.h"
#include "collector/cli/command_registry.h"
#include "tests/support/wait.h"

namespace octolaunch::cli {
namespace {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome runWith(std::vector<std::string> args) {
  args.insert(args.begin(), "octolaunch");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int code = runCli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

std::string joined(const std::vector<std::string>& path) {
  std::string text;
  for (const auto& p : path) text += (text.empty() ? "" : " ") + p;
  return text;
}

// An HTTP server on 127.0.0.1:0 that answers every request with the status and body it is told,
// and counts the requests.
class StandInCollector {
 public:
  StandInCollector() {
    auto answer = [this](const httplib::Request& req, httplib::Response& res) {
      ++requests;
      lastPath = req.path;
      lastBody = req.body;
      res.status = status.load();
      res.set_content(body, "application/json");
    };
    server_.Get(".*", answer);
    server_.Post(".*", answer);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Bound and listening already; stop() only ends a server whose accept loop runs.
    EXPECT_TRUE(
        testing::waitUntil([this] { return server_.is_running(); }, std::chrono::seconds(10)));
  }
  ~StandInCollector() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Outcome cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--url", url()});
    return runWith(std::move(args));
  }

  std::atomic<int> status{200};
  std::string body = "{}";  // set before a request, read on the server's thread during it
  std::atomic<int> requests{0};
  std::string lastPath, lastBody;  // written during a request, read after it

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(CommandLine, EveryCommandsHelpHasExamplesExitCodesAndJson) {
  for (const auto& command : allCommands()) {
    std::vector<std::string> args = command->path();
    const std::string name = joined(args);
    args.push_back("--help");
    const Outcome help = runWith(args);
    EXPECT_EQ(help.code, 0) << name;
    EXPECT_NE(help.out.find("Examples:\n  octolaunch " + command->path().front()),
              std::string::npos)
        << name << "\n"
        << help.out;
    EXPECT_NE(help.out.find("Exit codes: 0 ok"), std::string::npos) << name;
    EXPECT_NE(help.out.find("--json"), std::string::npos) << name;
    const std::string meaning = command->checkMeaning();
    EXPECT_NE(help.out.find(meaning.empty() ? "Exit codes: 0 ok, 2 usage"
                                            : "Exit codes: 0 ok, 1 " + meaning + ", 2 usage"),
              std::string::npos)
        << name;
  }
  const Outcome top = runWith({"--help"});
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("Exit codes (the same for every command):"), std::string::npos);
  EXPECT_NE(top.out.find("  4  not found"), std::string::npos);
}

TEST(CommandLine, MistypedWordsGetTheNearestOne) {
  Outcome o = runWith({"releses"});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err,
            "octolaunch: unknown command `releses`; did you mean `releases`?\n"
            "Run with --help for more information.\n");
  o = runWith({"release", "shw", "r42"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("unknown command `shw`; did you mean `show`?"), std::string::npos) << o.err;
  o = runWith({"agents", "revokee", "a1"});
  EXPECT_NE(o.err.find("did you mean `revoke`?"), std::string::npos) << o.err;
  o = runWith({"releases", "--servce", "api"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("unknown option `--servce`; did you mean `--service`?"), std::string::npos)
      << o.err;
  o = runWith({"--jsno", "releases"});
  EXPECT_NE(o.err.find("did you mean `--json`?"), std::string::npos) << o.err;
  o = runWith({"events", "--relase=r42"});
  EXPECT_NE(o.err.find("unknown option `--relase`; did you mean `--release`?"), std::string::npos)
      << o.err;
  o = runWith({"frobnicate"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("unknown command `frobnicate` (commands: events, releases, release, why"),
            std::string::npos)
      << o.err;
}

TEST(CommandLine, BadTimesAreUsageErrorsBeforeAnyRequest) {
  StandInCollector collector;
  Outcome o = collector.cli({"events", "--since", "2026-02-30"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--since: \"2026-02-30\": not a date: February 2026 has 28 days"),
            std::string::npos)
      << o.err;
  o = collector.cli({"drift", "--service", "api", "--since", "2026-03-01T12:00:00"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("add Z (UTC) or an offset"), std::string::npos) << o.err;
  o = collector.cli({"events", "--until", "soon"});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(collector.requests.load(), 0);

  collector.body = R"({"events": [], "next_cursor": null})";
  o = collector.cli({"events", "--since", "2026-03-01T13:00:00+01:00", "--until", "2026-03-02"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(collector.requests.load(), 1);
}

TEST(CommandLine, EachKindOfAnswerHasItsExitCode) {
  StandInCollector collector;
  const struct {
    int status;
    int code;
  } cases[] = {{404, 4}, {401, 5}, {403, 5}, {400, 2}, {409, 2}, {500, 6}, {503, 6}, {507, 6}};
  for (const auto& c : cases) {
    collector.status = c.status;
    collector.body = R"({"error": "told to answer so"})";
    const Outcome o = collector.cli({"release", "show", "r42"});
    EXPECT_EQ(o.code, c.code) << c.status;
    EXPECT_NE(o.err.find("told to answer so"), std::string::npos) << c.status << o.err;
  }
  collector.status = 200;
  collector.body = R"({"id": "r42", "status": "partially_failed"})";
  EXPECT_EQ(collector.cli({"release", "show", "r42"}).code, 0);
  EXPECT_EQ(collector.cli({"release", "show", "r42", "--check"}).code, 1);
  const Outcome json = collector.cli({"release", "show", "r42", "--check", "--json"});
  EXPECT_EQ(json.code, 1);
  EXPECT_EQ(nlohmann::json::parse(json.out)["status"], "partially_failed");
  collector.body = R"({"release": "r42", "status": "succeeded", "causes": []})";
  EXPECT_EQ(collector.cli({"why", "r42", "--check"}).code, 0);
  collector.body = R"({"release": "r42", "status": "pipeline_failed", "causes": []})";
  EXPECT_EQ(collector.cli({"why", "r42", "--check"}).code, 1);
  EXPECT_EQ(collector.cli({"why", "r42"}).code, 0);
}

TEST(CommandLine, NoFailTurnsA5xxIntoAWarning) {
  StandInCollector collector;
  collector.status = 503;
  collector.body = R"({"error": "overloaded"})";
  const std::vector<std::vector<std::string>> reports = {
      {"release", "create", "--id", "r42", "--service", "api"},
      {"release", "stage", "r42", "--name", "deploy", "--status", "ok"}};
  for (auto args : reports) {
    EXPECT_EQ(collector.cli(args).code, 6) << joined(args);
    args.push_back("--no-fail");
    const Outcome o = collector.cli(args);
    EXPECT_EQ(o.code, 0) << joined(args);
    EXPECT_EQ(o.out, "");
    EXPECT_EQ(o.err, "octolaunch: warning: the collector at " + collector.url() +
                         " failed (HTTP 503: overloaded); nothing was recorded, carrying on "
                         "(--no-fail)\n");
  }
  // --no-fail hides an outage, not a mistake in the job: a 4xx still fails it.
  collector.status = 403;
  const Outcome denied =
      collector.cli({"release", "create", "--id", "r42", "--service", "api", "--no-fail"});
  EXPECT_EQ(denied.code, 5);
}

TEST(CommandLine, InCiTheReleaseIdComesFromThePipeline) {
  StandInCollector collector;
  collector.status = 201;
  collector.body = R"({"id": "acme-api-7001"})";
  for (const char* name : {"GITHUB_ACTIONS", "GITLAB_CI"}) ::unsetenv(name);
  Outcome o = collector.cli({"release", "create", "--service", "api"});
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--id is required outside GitHub Actions and GitLab CI"), std::string::npos);
  EXPECT_EQ(collector.requests.load(), 0);

  ::setenv("GITHUB_ACTIONS", "true", 1);
  ::setenv("GITHUB_REPOSITORY", "acme/api", 1);
  ::setenv("GITHUB_RUN_ID", "7001", 1);
  ::setenv("GITHUB_SERVER_URL", "https://github.com", 1);
  o = collector.cli({"release", "create", "--service", "api"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "registered release acme-api-7001 (api)\n");
  EXPECT_EQ(collector.lastPath, "/api/v1/releases");
  EXPECT_EQ(nlohmann::json::parse(collector.lastBody)["id"], "acme-api-7001");
  collector.status = 200;
  o = collector.cli({"release", "stage", "--name", "deploy", "--status", "started"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(collector.lastPath, "/api/v1/releases/acme-api-7001/stages");
  EXPECT_EQ(nlohmann::json::parse(collector.lastBody)["job_url"],
            "https://github.com/acme/api/actions/runs/7001");
  for (const char* name :
       {"GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_SERVER_URL"}) {
    ::unsetenv(name);
  }
}

}  // namespace
}  // namespace octolaunch::cli
