// octolaunch release create [--id R] --service S [--version V] [--commit SHA]
//   [--artifact-digest sha256:...] [--artifact-uri URI] [--ci-run-url URL] [--ci-job-url URL ...]
//   [--environment E] [--target-host H ...] [--no-fail]
// POST /api/v1/releases. Fields left out, the id included, are filled from the CI environment when
// the command runs in a CI job (ci_environment.h); flags win over the environment.
#include <ostream>

#include "collector/cli/ci_environment.h"
#include "collector/cli/command_registry.h"

namespace octolaunch::cli {

namespace {

class ReleaseCreateCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"release", "create"}; }
  std::string description() const override {
    return "register a release (idempotent); in GitHub Actions or GitLab CI the id, commit, "
           "version, run and job URLs default to the job's";
  }
  std::vector<std::string> examples() const override {
    return {
        "octolaunch release create --id r42 --service api --commit 9f2c1e7 --ci-job-url "
        "https://ci/jobs/4411",
        "octolaunch release create --service api --no-fail   # in CI: id, commit, URLs "
        "from the job"};
  }
  void addOptions(CLI::App& app) override {
    app.add_option("--id", id_,
                   "release id, unique across services (default in CI: OWNER-REPO-RUN_ID on "
                   "GitHub, PROJECT_PATH_SLUG-PIPELINE_ID on GitLab)");
    app.add_option("--service", service_, "service the release deploys")->required();
    app.add_option("--version", version_, "version label (default in CI: the tag built)");
    app.add_option("--commit", commit_, "commit SHA (default in CI: the job's)");
    app.add_option("--artifact-digest", artifactDigest_, "sha256:<hex> of the artifact CI built");
    app.add_option("--artifact-uri", artifactUri_, "where the artifact lives");
    app.add_option("--ci-run-url", ciRunUrl_, "CI pipeline/run URL (default in CI: the job's)");
    app.add_option("--ci-job-url", ciJobUrls_,
                   "CI job URL, repeatable (default on GitLab: the job's)")
        ->allow_extra_args(false);
    app.add_option("--environment", environment_,
                   "e.g. production (default on GitLab: CI_ENVIRONMENT_NAME)");
    app.add_option("--target-host", targetHosts_, "host the rollout should reach (repeatable)")
        ->allow_extra_args(false);
    addNoFailOption(app);
  }

 protected:
  ApiResponse request(CliContext& context) override {
    if (id_.empty()) id_ = ciReleaseId(processEnvironment);
    if (id_.empty()) {
      throw std::invalid_argument("--id is required outside GitHub Actions and GitLab CI");
    }
    nlohmann::json body = {{"id", id_}, {"service", service_}};
    for (auto [key, value] :
         {std::pair{"version", &version_}, std::pair{"commit", &commit_},
          std::pair{"artifact_digest", &artifactDigest_}, std::pair{"artifact_uri", &artifactUri_},
          std::pair{"ci_run_url", &ciRunUrl_}, std::pair{"environment", &environment_}}) {
      if (!value->empty()) body[key] = *value;
    }
    if (!ciJobUrls_.empty()) body["ci_job_urls"] = ciJobUrls_;
    if (!targetHosts_.empty()) body["target_hosts"] = targetHosts_;
    fillReleaseFromCi(body, processEnvironment);
    return context.api.post("/api/v1/releases", body);
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    context.out << (response.status == 201 ? "registered" : "updated") << " release " << id_ << " ("
                << service_ << ")\n";
    return ExitCode::ok;
  }

 private:
  std::string id_, service_, version_, commit_, artifactDigest_, artifactUri_, ciRunUrl_,
      environment_;
  std::vector<std::string> ciJobUrls_, targetHosts_;
};

}  // namespace

std::unique_ptr<Command> makeReleaseCreateCommand() {
  return std::make_unique<ReleaseCreateCommand>();
}

}  // namespace octolaunch::cli
