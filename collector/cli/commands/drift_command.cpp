// octolaunch drift --service S [--environment E] [--since T]: GET /api/v1/drift. The hosts whose
// config or dependency fingerprints differ from the majority of the service's hosts, and which
// file or variable names differ. Exits ExitCode::checkFound when there is drift (a check CI runs
// before deploying).
#include <ostream>

#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"
#include "collector/cli/time_flag.h"

namespace octolaunch::cli {

namespace {

std::string join(const nlohmann::json& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n.get<std::string>();
  return out;
}

class DriftCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"drift"}; }
  std::string description() const override {
    return "hosts whose config or dependencies differ from the majority (exit 1 on drift)";
  }
  std::vector<std::string> examples() const override {
    return {"octolaunch drift --service api",
            "octolaunch drift --service api --environment "
            "production --since 7d || echo 'hosts differ: see above'"};
  }
  std::string checkMeaning() const override { return "drift found"; }
  void addOptions(CLI::App& app) override {
    app.add_option("--service", service_, "the service to check")->required();
    app.add_option("--environment", environment_,
                   "only hosts running releases of this environment");
    checkTimeFlag(*app.add_option(
        "--since", since_, "only fingerprints since TIME: 7d, 2026-03-01, ... (default 30d)"));
  }

 protected:
  ApiResponse request(CliContext& context) override {
    std::vector<std::pair<std::string, std::string>> params = {{"service", service_}};
    if (!environment_.empty()) params.emplace_back("environment", environment_);
    if (!since_.empty()) params.emplace_back("since", timeFlagValue(since_, context.nowNs));
    return context.api.get("/api/v1/drift", params);
  }
  ExitCode jsonExitCode(const nlohmann::json& body) const override {
    return body.value("drift", false) ? ExitCode::checkFound : ExitCode::ok;
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    int total = response.body.value("hosts_total", 0);
    if (!response.body.value("drift", false)) {
      context.out << "no drift: " << total << " host(s) of " << service_ << " agree\n";
      return ExitCode::ok;
    }
    Table table({"HOST", "CONFIG DIFFERS", "DEPENDENCIES DIFFER"});
    for (const auto& h : response.body.value("hosts", nlohmann::json::array())) {
      table.addRow(
          {h.value("host", ""), cell(join(h["config"]), 100), cell(join(h["dependency"]), 100)});
    }
    context.out << "drift on " << response.body["hosts"].size() << " of " << total << " host(s) of "
                << service_ << ":\n";
    table.print(context.out);
    return ExitCode::checkFound;
  }

 private:
  std::string service_, environment_, since_;
};

}  // namespace

std::unique_ptr<Command> makeDriftCommand() { return std::make_unique<DriftCommand>(); }

}  // namespace octolaunch::cli
