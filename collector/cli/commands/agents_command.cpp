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
  void addOptions(CLI::App& /*app*/) override {}

 protected:
  ApiResponse request(ApiClient& api) override { return api.get("/api/v1/agents", {}); }
  int show(CliContext& context, const ApiResponse& response) override {
    Table table({"AGENT", "HOST", "STATUS", "ENROLLED", "LAST SEEN", "LAST PEER", "CLONES"});
    for (const auto& a : response.body.value("agents", nlohmann::json::array())) {
      table.addRow({cell(a.value("agent_id", "")), a.value("host", ""), a.value("status", ""),
                    text(a.value("enrolled", nlohmann::json())),
                    text(a.value("last_seen", nlohmann::json())), a.value("last_peer", ""),
                    std::to_string(a.value("clones_reported", 0ull))});
    }
    table.print(context.out);
    return kExitOk;
  }
};

class AgentsRevokeCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"agents", "revoke"}; }
  std::string description() const override {
    return "revoke an agent's key (admin token): its sessions end, its events stay";
  }
  void addOptions(CLI::App& app) override {
    app.add_option("id", id_, "agent id (see agents list)")->required();
  }

 protected:
  ApiResponse request(ApiClient& api) override {
    return api.post("/api/v1/agents/" + pathSegment(id_) + "/revoke", nlohmann::json::object());
  }
  int show(CliContext& context, const ApiResponse& response) override {
    context.out << "agent " << id_
                << (response.body.value("already_revoked", false) ? " was already revoked at "
                                                                  : " revoked at ")
                << response.body.value("revoked", "") << "\n";
    return kExitOk;
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
