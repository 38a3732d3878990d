// octolaunch events purge --release R --match PATTERN [--dry-run]
// POST /api/v1/events/purge (admin scope): masks what PATTERN (RE2) matches in the stored events
// of release R and prints "rewrote M of N events of release R" (a dry run: "would rewrite").
#include <ostream>

#include "collector/cli/command_registry.h"

namespace octolaunch::cli {

namespace {

class EventsPurgeCommand final : public ApiCommand {
 public:
  std::vector<std::string> path() const override { return {"events", "purge"}; }
  std::string description() const override {
    return "mask a leaked secret (an RE2 pattern) in the stored events of a release (admin)";
  }
  std::vector<std::string> examples() const override {
    return {"octolaunch events purge --release r42 --match 'zq-leak-[0-9a-f]+' --dry-run",
            "octolaunch events purge --release r42 --match 'password=(\\S+)'"};
  }
  void addOptions(CLI::App& app) override {
    app.add_option("--release", release_, "the release whose events to rewrite")->required();
    app.add_option("--match", match_,
                   "RE2 pattern; a match becomes ***, or only its first capture group")
        ->required();
    app.add_flag("--dry-run", dryRun_, "count what would be rewritten, change nothing");
  }
  // A big release takes a while: the collector answers when the whole purge is done.
  std::chrono::milliseconds timeout() const override { return std::chrono::minutes(30); }

 protected:
  ApiResponse request(CliContext& context) override {
    return context.api.post("/api/v1/events/purge",
                            {{"release", release_}, {"match", match_}, {"dry_run", dryRun_}});
  }
  ExitCode show(CliContext& context, const ApiResponse& response) override {
    const auto& body = response.body;
    context.out << (body.value("dry_run", false) ? "would rewrite " : "rewrote ")
                << body.value("events_rewritten", 0ull) << " of "
                << body.value("events_examined", 0ull) << " events of release " << release_ << "\n";
    return ExitCode::ok;
  }

 private:
  std::string release_, match_;
  bool dryRun_ = false;
};

}  // namespace

std::unique_ptr<Command> makeEventsPurgeCommand() { return std::make_unique<EventsPurgeCommand>(); }

}  // namespace octolaunch::cli
