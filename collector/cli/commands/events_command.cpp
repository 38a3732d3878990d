// octolaunch events [--release R] [--host H] [--kind K] [--since T] [--until T] [--limit N]
//                   [--cursor C]
// One page of GET /api/v1/events, oldest first: a table, or with --json the API's object.
#include <ostream>

#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"
#include "collector/cli/time_flag.h"

namespace octolaunch::cli {

namespace {

// The one-line gist of an event's data for the table.
std::string summary(const nlohmann::json& event) {
  const nlohmann::json& data = event.value("data", nlohmann::json::object());
  const std::string kind = event.value("kind", "");
  if (kind == "hook.output") {
    return data.value("stream", "") + ": " + data.value("line", "");
  }
  if (kind == "hook.exit") {
    std::string s = data.contains("signal")
                        ? "signal " + data["signal"].dump()
                        : "exit " + data.value("exit_code", nlohmann::json(0)).dump();
    return s + " " + data.value("command", "");
  }
  return data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class EventsCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"events"}; }
  std::string description() const override { return "list stored events, oldest first"; }
  std::vector<std::string> examples() const override {
    return {"octolaunch events --release r42 --kind hook.exit",
            "octolaunch events --host web-1 --since 1h",
            "octolaunch events --since 2026-03-01T12:00:00Z --until 2026-03-01T13:00:00Z --json"};
  }
  void addOptions(CLI::App& app) override {
    app.add_option("--release", release_, "only events of this release");
    app.add_option("--host", host_, "only events of this host");
    app.add_option("--kind", kind_, "only events of this kind, e.g. hook.output");
    checkTimeFlag(*app.add_option("--since", since_, "from TIME: 1h (ago), 2026-03-01, ..."));
    checkTimeFlag(*app.add_option("--until", until_, "before TIME: 30m (ago), 2026-03-02, ..."));
    app.add_option("--limit", limit_, "at most N events (1..10000)")->capture_default_str();
    app.add_option("--cursor", cursor_, "continue after a previous page (next_cursor)");
  }

 protected:
  ApiResponse request(CliContext& context) override {
    std::vector<std::pair<std::string, std::string>> params = {{"limit", std::to_string(limit_)}};
    for (auto [name, value] : {std::pair{"release", &release_}, std::pair{"host", &host_},
                               std::pair{"kind", &kind_}, std::pair{"cursor", &cursor_}}) {
      if (!value->empty()) params.emplace_back(name, *value);
    }
    for (auto [name, value] : {std::pair{"since", &since_}, std::pair{"until", &until_}}) {
      if (!value->empty()) params.emplace_back(name, timeFlagValue(*value, context.nowNs));
    }
    return context.api.get("/api/v1/events", params);
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    Table table({"TIME", "HOST", "KIND", "RELEASE", "SEQ", "EVENT"});
    for (const auto& e : response.body.value("events", nlohmann::json::array())) {
      table.addRow({e.value("time", ""), e.value("host", ""), e.value("kind", ""),
                    e.value("release", ""), std::to_string(e.value("seq", 0ull)),
                    cell(summary(e))});
    }
    table.print(context.out);
    if (response.body.contains("next_cursor") && response.body["next_cursor"].is_string()) {
      context.err << "(more: --cursor " << response.body["next_cursor"].get<std::string>() << ")\n";
    }
    return ExitCode::ok;
  }

 private:
  std::string release_, host_, kind_, since_, until_, cursor_;
  unsigned limit_ = 100;
};

}  // namespace

std::unique_ptr<Command> makeEventsCommand() { return std::make_unique<EventsCommand>(); }

}  // namespace octolaunch::cli
