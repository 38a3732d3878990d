// octolaunch timeline R [--host H]: GET /api/v1/releases/R/timeline. Prints the pipeline stages,
// each host's deploy state and windows, then every event of the release in time order (hosts
// merged).
#include <algorithm>
#include <ostream>

#include "collector/cli/colour.h"
#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"

namespace octolaunch::cli {

namespace {

class TimelineCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"timeline"}; }
  std::string description() const override {
    return "a release's stages, deploy windows and events in time order";
  }
  std::vector<std::string> examples() const override {
    return {"octolaunch timeline r42", "octolaunch timeline r42 --host web-3"};
  }
  void addOptions(CLI::App& app) override {
    app.add_option("id", id_, "release id")->required();
    app.add_option("--host", host_, "only this host");
  }

 protected:
  ApiResponse request(CliContext& context) override {
    return context.api.get("/api/v1/releases/" + pathSegment(id_) + "/timeline");
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    const auto& b = response.body;
    context.out << "release " << b.value("release", "") << " (" << b.value("service", "")
                << "): " << b.value("status", "") << "\n";
    for (const auto& s : b.value("stages", nlohmann::json::array())) {
      context.out << "  stage " << s.value("name", "") << ": " << s.value("status", "")
                  << (s["job_url"].is_string() ? "  " + s["job_url"].get<std::string>() : "")
                  << "\n";
    }
    struct Row {
      std::int64_t t;
      std::vector<std::string> cells;
    };
    std::vector<Row> rows;
    for (const auto& h : b.value("hosts", nlohmann::json::array())) {
      std::string host = h.value("host", "");
      if (!host_.empty() && host != host_) continue;
      context.out << "  host " << host << ": " << paintStatus(h.value("state", ""), context.colour)
                  << (h.value("reason", "").empty() ? "" : " — " + h.value("reason", "")) << "\n";
      for (const auto& w : h.value("windows", nlohmann::json::array())) {
        context.out << "    window " << w.value("start", "") << " .. " << w.value("end", "")
                    << (w.value("unfinished", false) ? " (unfinished)" : "")
                    << (w.value("rollback", false)
                            ? " (rollback from " + w.value("rolled_back_from", "") + ")"
                            : "")
                    << (w.contains("superseded_by")
                            ? " (replaced by " + w.value("superseded_by", "") + ")"
                            : "")
                    << "\n";
      }
      for (const auto& e : h.value("events", nlohmann::json::array())) {
        rows.push_back({e.value("time_ns", std::int64_t{0}),
                        {e.value("time", ""), host, e.value("kind", ""),
                         e.value("link", "") == "context" ? "context" : "",
                         cell(e.value("summary", ""), 140)}});
      }
      if (h.value("events_omitted", 0) > 0) {
        context.out << "    (" << h.value("events_omitted", 0) << " more events of " << host
                    << " not shown)\n";
      }
    }
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return a.t < b.t; });
    Table table({"TIME", "HOST", "KIND", "LINK", "EVENT"});
    for (auto& r : rows) table.addRow(std::move(r.cells));
    context.out << "\n";
    table.print(context.out);
    return ExitCode::ok;
  }

 private:
  std::string id_, host_;
};

}  // namespace

std::unique_ptr<Command> makeTimelineCommand() { return std::make_unique<TimelineCommand>(); }

}  // namespace octolaunch::cli
