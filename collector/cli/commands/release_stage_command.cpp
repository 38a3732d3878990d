// octolaunch release stage R --name build|test|push|deploy|... --status started|ok|failed
// [--job-url URL] POST /api/v1/releases/R/stages. In CI the job URL defaults to the provider's
// (ci_environment.h).
#include <cstdlib>
#include <ostream>

#include "collector/cli/ci_environment.h"
#include "collector/cli/command_registry.h"

namespace octolaunch::cli {

namespace {

class ReleaseStageCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"release", "stage"}; }
  std::string description() const override { return "report a pipeline stage of a release"; }
  void addOptions(CLI::App& app) override {
    app.add_option("id", id_, "release id")->required();
    app.add_option("--name", name_, "stage name: build, test, push, deploy, ...")->required();
    app.add_option("--status", status_, "started, ok or failed")
        ->required()
        ->check(CLI::IsMember({"started", "ok", "failed"}));
    app.add_option("--job-url", jobUrl_,
                   "the CI job of this stage (default: from the CI environment)");
  }

 protected:
  ApiResponse request(ApiClient& api) override {
    nlohmann::json body = {{"name", name_}, {"status", status_}};
    std::string job =
        jobUrl_.empty() ? ciJobUrl([](const char* n) { return std::getenv(n); }) : jobUrl_;
    if (!job.empty()) body["job_url"] = job;
    return api.post("/api/v1/releases/" + pathSegment(id_) + "/stages", body);
  }
  int show(CliContext& context, const ApiResponse& /*response*/) override {
    context.out << "release " << id_ << ": stage " << name_ << " " << status_ << "\n";
    return kExitOk;
  }

 private:
  std::string id_, name_, status_, jobUrl_;
};

}  // namespace

std::unique_ptr<Command> makeReleaseStageCommand() {
  return std::make_unique<ReleaseStageCommand>();
}

}  // namespace octolaunch::cli
