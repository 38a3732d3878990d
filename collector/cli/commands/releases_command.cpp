// octolaunch releases [--service S] [--environment E] [--limit N]: GET /api/v1/releases as a table,
// newest first, with each release's status and how many of its hosts failed.
#include "collector/cli/colour.h"
#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"

namespace octolaunch::cli {

namespace {

class ReleasesCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"releases"}; }
  std::string description() const override {
    return "list registered releases, newest first, with their status";
  }
  std::vector<std::string> examples() const override {
    return {"octolaunch releases --service api",
            "octolaunch releases --environment production --limit 5 --json"};
  }
  void addOptions(CLI::App& app) override {
    app.add_option("--service", service_, "only releases of this service");
    app.add_option("--environment", environment_, "only releases of this environment");
    app.add_option("--limit", limit_, "at most N releases (1..1000)")->capture_default_str();
  }

 protected:
  ApiResponse request(CliContext& context) override {
    std::vector<std::pair<std::string, std::string>> params = {{"limit", std::to_string(limit_)}};
    if (!service_.empty()) params.emplace_back("service", service_);
    if (!environment_.empty()) params.emplace_back("environment", environment_);
    return context.api.get("/api/v1/releases", params);
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    Table table({"ID", "SERVICE", "VERSION", "STATUS", "HOSTS FAILED", "REGISTERED"});
    table.statusColumn(3);
    const auto releases = response.body.value("releases", nlohmann::json::array());
    for (const auto& r : releases) {
      auto text = [&r](const char* key) {
        return r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : std::string();
      };
      std::string hosts = std::to_string(r.value("hosts_failed", 0)) + "/" +
                          std::to_string(r.value("hosts_total", 0));
      table.addRow({cell(text("id")), cell(text("service")), cell(text("version")),
                    cell(text("status")), hosts, text("registered_at")});
    }
    table.print(context.out, context.colour);
    std::size_t total = response.body.value("total", releases.size());
    if (total > releases.size()) {
      context.err << "(" << releases.size() << " of " << total << " releases; --limit for more)\n";
    }
    return ExitCode::ok;
  }

 private:
  std::string service_, environment_;
  unsigned limit_ = 50;
};

}  // namespace

std::unique_ptr<Command> makeReleasesCommand() { return std::make_unique<ReleasesCommand>(); }

}  // namespace octolaunch::cli
