// A candidate cause of a release's failure, with the evidence that supports it and what to open
// first; and the input every cause rule reads.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collector/analysis/deploy_state.h"
#include "collector/analysis/deploy_window.h"
#include "collector/analysis/host_clock.h"
#include "collector/analysis/linker.h"
#include "collector/analysis/release_model.h"

namespace octolaunch::analysis {

// One event (or pipeline stage) that supports a cause.
struct Evidence {
  std::optional<EventRef> ref;  // empty for a pipeline stage
  std::string kind;             // event kind, or "pipeline.stage"
  std::string host;
  std::int64_t timeNs = 0;
  std::string summary;
  std::string role;               // "cause", "symptom", "context", "passed", "stage"
  std::string url;                // pipeline.stage: its job URL
  std::vector<std::string> tail;  // a failed hook.exit: its output tail ("output_tail" in JSON)
};

struct OpenFirst {
  std::string kind;  // "ci_job" or "event"
  std::string label;
  std::string url;                // ci_job
  std::optional<Evidence> event;  // event
};

struct Cause {
  std::string category;  // pipeline, deploy-script, flaky-deploy, resource-exhaustion,
                         // orchestration, artifact-mismatch, config-drift, dependency-change
  std::string title;     // one line a human reads first
  double score = 0;
  std::vector<std::string> hosts;  // affected, sorted
  int hostsTotal = 0;
  std::int64_t firstSeenNs = 0;
  std::vector<Evidence> evidence;
  std::vector<OpenFirst> openFirst;
  bool context = false;              // background seen during the deploy, not a failure of it
  std::vector<std::string> reasons;  // how the ranker placed it, for humans

  // Set by the rules, read by the ranker.
  double specificity = 0.5;    // 0..1: how concrete the finding is
  bool rootKind = false;       // can explain failures that follow it on the same host
  bool symptomKind = false;    // may itself be explained by a root cause on the same host
  bool rollbackHelps = false;  // the release's own failure: rolling back would undo it
  // A state the agent observes when the deploy finishes (the artifact in place, fingerprints of
  // config and dependencies): it held while the deploy ran, so "began after the failure" does not
  // apply to it.
  bool observedState = false;
  std::map<std::string, std::int64_t> hostFirstNs;  // per affected host: when it first showed
};

// The last good release's fingerprints on one host (from the caller: it knows the release history).
struct HostBaseline {
  std::string release;
  std::string configKeyId, dependencyKeyId;  // the fingerprints' key ids (empty: legacy)
  std::optional<std::vector<FingerprintEntry>> config;
  std::optional<std::vector<FingerprintEntry>> dependency;
};
using Baselines = std::map<std::string, HostBaseline>;  // by host

// How bad a condition must be to count as a cause ([analysis] of collector.toml).
// Pressure thresholds follow the kernel's PSI semantics (Documentation/accounting/psi.rst): "some"
// is the share of wall time in which at least one task stalled on the resource, "full" the share
// in which all non-idle tasks stalled at once (lost work outright). Operators page on sustained
// "some" in the tens of percent, or on any sustained "full"; a 10 s average that spikes and clears
// is normal on a busy host. So: some avg10 >= 40% or full avg10 >= 10%, held >= 30 s.
struct CauseOptions {
  double pressureSomeAvg10 = 40.0;                         // percent
  double pressureFullAvg10 = 10.0;                         // percent
  std::int64_t pressureMinNs = 30LL * 1'000'000'000;       // an episode shorter than this is noise
  std::int64_t pressureMergeGapNs = 30LL * 1'000'000'000;  // raised again within this: one episode
};

struct CauseInput {
  const Release& release;
  std::span<const DeployWindow> windows;
  std::span<const LinkedFact> linked;  // time order
  const ReleaseState& state;
  const Baselines& baselines;
  WindowOptions windowOptions;
  CauseOptions options;
  HostClocks clocks;  // per host: agent clock -> collector clock (CI stage times)
};

Evidence evidenceOf(const EventFact& fact, const char* role);
OpenFirst openEvent(const EventFact& fact, std::string label);
OpenFirst openJob(const std::string& url, std::string label);

// The first failure signal (non-context) on a host, or nullptr.
const EventFact* firstFailure(const CauseInput& in, const std::string& host);
bool hostFailed(const CauseInput& in, const std::string& host);
// "during migrate" (a hook was running), "after the deploy" (after deploy.finish) or "during the
// deploy".
std::string whenInDeploy(const CauseInput& in, const std::string& host, std::int64_t timeNs);
// "1 of 3 hosts" / "web-2" when only one.
std::string hostsPhrase(const std::vector<std::string>& hosts, int total);
// Truncates to one line of at most n characters.
std::string oneLine(std::string text, std::size_t n = 200);
// The OOM kill that killed a failed hook: the hook exited 137 or by signal 9, and an oom.kill on
// its host while it ran names a victim in the hook's cgroup (task_memcg or memcg equal to it or
// under it), else the hook's child pid. nullptr when none.
const EventFact* oomOfHook(const CauseInput& in, const EventFact& exit);
// The line that says why a failed hook failed on its host (informativeLine() over its stderr lines
// and its tail), and the hook.output event that carried it (nullptr when it came from the tail).
std::string hookErrorLine(const CauseInput& in, const EventFact& exit,
                          const EventFact** line = nullptr);
// When a linked condition began on its host: a pressure episode's raise, or the event's time.
// Conditions found at agent start, or present before the window opened, began no later than the
// host's window start.
std::int64_t beganAt(const CauseInput& in, const LinkedFact& l);
// Adds a host to a cause (sorted, unique) and records its first time there.
void touchHost(Cause& cause, const std::string& host, std::int64_t timeNs);

nlohmann::json causeJson(const Cause& cause);
nlohmann::json evidenceJson(const Evidence& evidence);

}  // namespace octolaunch::analysis
