// octolaunch release create --id R --service S [--version V] [--commit SHA]
//   [--artifact-digest sha256:...] [--artifact-uri URI] [--ci-run-url URL] [--ci-job-url URL ...]
//   [--environment E] [--target-host H ...]
// POST /api/v1/releases. Fields left out are filled from the CI environment when the command runs
// in a CI job (GitHub Actions, GitLab CI); flags win over the environment.
#include <cstdlib>
#include <ostream>

#include "collector/cli/ci_environment.h"
#include "collector/cli/command_registry.h"

namespace octolaunch::cli {

namespace {

class ReleaseCreateCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"release", "create"}; }
  std::string description() const override { return "register a release (idempotent)"; }
  void addOptions(CLI::App& app) override {
    app.add_option("--id", id_, "release id, unique across services")->required();
    app.add_option("--service", service_, "service the release deploys")->required();
    app.add_option("--version", version_, "version label");
    app.add_option("--commit", commit_, "commit SHA");
    app.add_option("--artifact-digest", artifactDigest_, "sha256:<hex> of the artifact CI built");
    app.add_option("--artifact-uri", artifactUri_, "where the artifact lives");
    app.add_option("--ci-run-url", ciRunUrl_, "CI pipeline/run URL");
    app.add_option("--ci-job-url", ciJobUrls_, "CI job URL (repeatable)")->allow_extra_args(false);
    app.add_option("--environment", environment_, "e.g. production");
    app.add_option("--target-host", targetHosts_, "host the rollout should reach (repeatable)")
        ->allow_extra_args(false);
  }

 protected:
  ApiResponse request(ApiClient& api) override {
    nlohmann::json body = {{"id", id_}, {"service", service_}};
    for (auto [key, value] :
         {std::pair{"version", &version_}, std::pair{"commit", &commit_},
          std::pair{"artifact_digest", &artifactDigest_}, std::pair{"artifact_uri", &artifactUri_},
          std::pair{"ci_run_url", &ciRunUrl_}, std::pair{"environment", &environment_}}) {
      if (!value->empty()) body[key] = *value;
    }
    if (!ciJobUrls_.empty()) body["ci_job_urls"] = ciJobUrls_;
    if (!targetHosts_.empty()) body["target_hosts"] = targetHosts_;
    fillReleaseFromCi(body, [](const char* name) { return std::getenv(name); });
    return api.post("/api/v1/releases", body);
  }
  int show(CliContext& context, const ApiResponse& response) override {
    context.out << (response.status == 201 ? "registered" : "updated") << " release " << id_ << " ("
                << service_ << ")\n";
    return kExitOk;
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
