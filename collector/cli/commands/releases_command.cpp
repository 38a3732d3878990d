// octolaunch releases: GET /api/v1/releases as a table (ID, SERVICE, VERSION, REGISTERED).
#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"

namespace octolaunch::cli {

namespace {

class ReleasesCommand final : public Command {
 public:
  std::vector<std::string> path() const override { return {"releases"}; }
  std::string description() const override { return "list registered releases"; }
  void addOptions(CLI::App&) override {}
  int run(CliContext& context) override {
    ApiResponse response = context.api.get("/api/v1/releases");
    if (!response.ok()) return reportApiError(context, response);
    if (context.json) {
      printJson(context, response.body);
      return kExitOk;
    }
    Table table({"ID", "SERVICE", "VERSION", "STATUS", "REGISTERED"});
    for (const auto& r : response.body.value("releases", nlohmann::json::array())) {
      auto text = [&r](const char* key) {
        return r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : std::string();
      };
      table.addRow({cell(text("id")), cell(text("service")), cell(text("version")),
                    cell(text("status")), text("registered_at")});
    }
    table.print(context.out);
    return kExitOk;
  }
};

}  // namespace

std::unique_ptr<Command> makeReleasesCommand() { return std::make_unique<ReleasesCommand>(); }

}  // namespace octolaunch::cli
