// octolaunch agents list: GET /api/v1/agents, the enrolled agents (a table, or --json).
// octolaunch agents revoke ID: POST /api/v1/agents/ID/revoke (admin token): the agent's key is
// refused from now on and its live session ends; its stored events stay.
#include <ostream>

#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"

namespace octolaunch::cli {

namespace {

std::string text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : std::string("-");
}

class AgentsListCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"agents", "list"}; }
  std::string description() const override {
    return "list enrolled agents, their status and clones reported";
  }
  std::vector<std::string> examples() const override {
    return {"octolaunch agents list", "octolaunch --json agents list | jq -r '.agents[].host'"};
  }
  void addOptions(CLI::App& /*app*/) override {}

 protected:
  ApiResponse request(CliContext& context) override {
    return context.api.get("/api/v1/agents", {});
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    Table table({"AGENT", "HOST", "STATUS", "ENROLLED", "LAST SEEN", "LAST PEER", "CLONES"});
    for (const auto& a : response.body.value("agents", nlohmann::json::array())) {
      table.addRow({cell(a.value("agent_id", "")), a.value("host", ""), a.value("status", ""),
                    text(a.value("enrolled", nlohmann::json())),
                    text(a.value("last_seen", nlohmann::json())), a.value("last_peer", ""),
                    std::to_string(a.value("clones_reported", 0ull))});
    }
    table.print(context.out);
    return ExitCode::ok;
  }
};

class AgentsRevokeCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"agents", "revoke"}; }
  std::string description() const override {
    return "revoke an agent's key (admin token): its sessions end, its events stay";
  }
  std::vector<std::string> examples() const override {
    return {"octolaunch agents revoke 3f2a9c0e-web-1   # with an admin token"};
  }
  void addOptions(CLI::App& app) override {
    app.add_option("id", id_, "agent id (see agents list)")->required();
  }

 protected:
  ApiResponse request(CliContext& context) override {
    return context.api.post("/api/v1/agents/" + pathSegment(id_) + "/revoke",
                            nlohmann::json::object());
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    context.out << "agent " << id_
                << (response.body.value("already_revoked", false) ? " was already revoked at "
                                                                  : " revoked at ")
                << response.body.value("revoked", "") << "\n";
    return ExitCode::ok;
  }

 private:
  std::string id_;
};

}  // namespace

std::unique_ptr<Command> makeAgentsListCommand() { return std::make_unique<AgentsListCommand>(); }
std::unique_ptr<Command> makeAgentsRevokeCommand() {
  return std::make_unique<AgentsRevokeCommand>();
}

}  // namespace octolaunch::cli
