// octolaunch release stage [R] --name build|test|push|deploy|... --status started|ok|failed
// [--job-url URL] [--no-fail]: POST /api/v1/releases/R/stages. In CI the release id and the job
// URL default to the pipeline's (ci_environment.h).
#include <ostream>

#include "collector/cli/ci_environment.h"
#include "collector/cli/command_registry.h"

namespace octolaunch::cli {

namespace {

class ReleaseStageCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"release", "stage"}; }
  std::string description() const override { return "report a pipeline stage of a release"; }
  std::vector<std::string> examples() const override {
    return {
        "octolaunch release stage r42 --name push --status failed --job-url "
        "https://ci/jobs/4412",
        "octolaunch release stage --name deploy --status started --no-fail   # in CI"};
  }
  void addOptions(CLI::App& app) override {
    app.add_option("id", id_, "release id (default in CI: the pipeline's, as release create)");
    app.add_option("--name", name_, "stage name: build, test, push, deploy, ...")->required();
    app.add_option("--status", status_, "started, ok or failed")
        ->required()
        ->check(CLI::IsMember({"started", "ok", "failed"}));
    app.add_option("--job-url", jobUrl_,
                   "the CI job of this stage (default: from the CI environment)");
    addNoFailOption(app);
  }

 protected:
  ApiResponse request(CliContext& context) override {
    if (id_.empty()) id_ = ciReleaseId(processEnvironment);
    if (id_.empty()) {
      throw std::invalid_argument(
          "the release id is required outside GitHub Actions and GitLab CI");
    }
    nlohmann::json body = {{"name", name_}, {"status", status_}};
    const std::string job = jobUrl_.empty() ? ciJobUrl(processEnvironment) : jobUrl_;
    if (!job.empty()) body["job_url"] = job;
    return context.api.post("/api/v1/releases/" + pathSegment(id_) + "/stages", body);
  }
  ExitCode show(CliContext& context, const ApiResponse& /*response*/) override {
    context.out << "release " << id_ << ": stage " << name_ << " " << status_ << "\n";
    return ExitCode::ok;
  }

 private:
  std::string id_, name_, status_, jobUrl_;
};

}  // namespace

std::unique_ptr<Command> makeReleaseStageCommand() {
  return std::make_unique<ReleaseStageCommand>();
}

}  // namespace octolaunch::cli
