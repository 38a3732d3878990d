// octolaunch release show R: GET /api/v1/releases/R as "key  value" lines; exit 1 when unknown.
#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"

namespace octolaunch::cli {

namespace {

class ReleaseShowCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"release", "show"}; }
  std::string description() const override { return "show one release"; }
  void addOptions(CLI::App& app) override { app.add_option("id", id_, "release id")->required(); }

 protected:
  ApiResponse request(ApiClient& api) override {
    return api.get("/api/v1/releases/" + pathSegment(id_));
  }
  int show(CliContext& context, const ApiResponse& response) override {
    Table table({"FIELD", "VALUE"});
    for (const auto& [key, value] : response.body.items()) {
      table.addRow(
          {key, cell(value.is_string()
                         ? value.get<std::string>()
                         : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     200)});
    }
    table.print(context.out);
    return kExitOk;
  }

 private:
  std::string id_;
};

}  // namespace

std::unique_ptr<Command> makeReleaseShowCommand() { return std::make_unique<ReleaseShowCommand>(); }

}  // namespace octolaunch::cli
