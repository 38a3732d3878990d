// octolaunch why R [--all]: GET /api/v1/releases/R/causes. Prints the status and the advice, the
// ranked causes, then the evidence and what to open first for the top cause (--all: every cause).
// Exit ok when the release is known (whatever its status; with --check ExitCode::checkFound when it
// failed), not found when unknown.
#include <cstdio>
#include <ostream>

#include "collector/cli/colour.h"
#include "collector/cli/command_registry.h"
#include "collector/cli/table.h"

namespace octolaunch::cli {

namespace {

std::string score(const nlohmann::json& c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.2f", c.value("score", 0.0));
  return buf;
}

void printDetail(CliContext& context, std::size_t rank, const nlohmann::json& c) {
  context.out << "\n#" << rank << " " << c.value("category", "") << ": " << c.value("title", "")
              << "\n";
  if (c.contains("open_first") && !c["open_first"].empty()) {
    context.out << "  open first:\n";
    for (const auto& o : c["open_first"]) {
      if (o.value("kind", "") == "ci_job") {
        context.out << "    " << o.value("url", "") << "  (" << o.value("label", "") << ")\n";
      } else {
        context.out << "    " << o.value("host", "") << " " << o.value("event_kind", "") << " seq "
                    << o.value("seq", 0ull) << " of " << o.value("agent_id", "") << ": "
                    << cell(o.value("summary", ""), 120) << "\n";
      }
    }
  }
  Table evidence({"  TIME", "HOST", "KIND", "ROLE", "REF", "EVENT"});
  for (const auto& e : c.value("evidence", nlohmann::json::array())) {
    std::string ref = e.contains("seq")
                          ? e.value("agent_id", "") + ":" + std::to_string(e.value("seq", 0ull))
                          : "";
    evidence.addRow({"  " + e.value("time", ""), e.value("host", ""), e.value("kind", ""),
                     e.value("role", ""), ref, cell(e.value("summary", ""), 120)});
  }
  if (!evidence.empty()) evidence.print(context.out);
  std::string why;
  for (const auto& r : c.value("reasons", nlohmann::json::array()))
    why += (why.empty() ? "" : "; ") + r.get<std::string>();
  if (!why.empty()) context.out << "  ranked by: " << cell(why, 400) << "\n";
}

class WhyCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"why"}; }
  std::string description() const override {
    return "why did release R fail: ranked causes with evidence";
  }
  std::vector<std::string> examples() const override {
    return {
        "octolaunch why r42", "octolaunch why r42 --all",
        "octolaunch why \"$RELEASE\" --check || exit 1   # fail the job when the release failed"};
  }
  std::string checkMeaning() const override { return "the release failed (--check)"; }
  void addOptions(CLI::App& app) override {
    app.add_option("id", id_, "release id")->required();
    app.add_flag("--all", all_, "evidence for every cause, not only the top one");
    app.add_flag("--check", check_,
                 "exit 1 when the release failed (failed, partially_failed, pipeline_failed)");
  }

 protected:
  ApiResponse request(CliContext& context) override {
    return context.api.get("/api/v1/releases/" + pathSegment(id_) + "/causes");
  }
  ExitCode jsonExitCode(const nlohmann::json& body) const override {
    return check_ ? releaseCheck(body) : ExitCode::ok;
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    const auto& b = response.body;
    context.out << "release " << b.value("release", "") << ": "
                << paintStatus(b.value("status", ""), context.colour) << " ("
                << b.value("hosts_failed", 0) << " of " << b.value("hosts_total", 0)
                << " hosts failed)\n"
                << b.value("advice", "") << "\n";
    const auto causes = b.value("causes", nlohmann::json::array());
    if (causes.empty()) return jsonExitCode(b);
    context.out << "\n";
    Table table({"#", "SCORE", "CATEGORY", "HOSTS", "FIRST SEEN", "CAUSE"});
    std::size_t rank = 0;
    for (const auto& c : causes) {
      table.addRow({std::to_string(++rank), score(c),
                    c.value("category", "") + (c.value("context", false) ? " (context)" : ""),
                    std::to_string(c.value("hosts_affected", 0)) + "/" +
                        std::to_string(c.value("hosts_total", 0)),
                    c["first_seen"].is_string()
                        ? c["first_seen"].get<std::string>().substr(0, 19) + "Z"
                        : "",
                    cell(c.value("title", ""), 140)});
    }
    table.print(context.out);
    rank = 0;
    for (const auto& c : causes) {
      printDetail(context, ++rank, c);
      if (!all_) break;
    }
    return jsonExitCode(b);
  }

 private:
  std::string id_;
  bool all_ = false;
  bool check_ = false;
};

}  // namespace

std::unique_ptr<Command> makeWhyCommand() { return std::make_unique<WhyCommand>(); }

}  // namespace octolaunch::cli
