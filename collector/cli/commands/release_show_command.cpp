// octolaunch release show R [--check]: GET /api/v1/releases/R as "key  value" lines; not found when
// unknown; with --check, ExitCode::checkFound when the release failed.
#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"

namespace octolaunch::cli {

namespace {

class ReleaseShowCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"release", "show"}; }
  std::string description() const override { return "show one release"; }
  std::vector<std::string> examples() const override {
    return {"octolaunch release show r42", "octolaunch release show r42 --check --json > r42.json"};
  }
  std::string checkMeaning() const override { return "the release failed (--check)"; }
  void addOptions(CLI::App& app) override {
    app.add_option("id", id_, "release id")->required();
    app.add_flag("--check", check_,
                 "exit 1 when the release failed (failed, partially_failed, pipeline_failed)");
  }

 protected:
  ApiResponse request(CliContext& context) override {
    return context.api.get("/api/v1/releases/" + pathSegment(id_));
  }
  ExitCode jsonExitCode(const nlohmann::json& body) const override {
    return check_ ? releaseCheck(body) : ExitCode::ok;
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    Table table({"FIELD", "VALUE"});
    for (const auto& [key, value] : response.body.items()) {
      table.addRow(
          {key, cell(value.is_string()
                         ? value.get<std::string>()
                         : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     200)});
    }
    table.print(context.out);
    return jsonExitCode(response.body);
  }

 private:
  std::string id_;
  bool check_ = false;
};

}  // namespace

std::unique_ptr<Command> makeReleaseShowCommand() { return std::make_unique<ReleaseShowCommand>(); }

}  // namespace octolaunch::cli
