// Per-host deploy state of a release and the release's overall status.
//
// A host is failed when its deploy.finish says failed, a hook's final attempt failed (a hook that
// passes on retry is not a failure), the deploy never finished within the maximum, or — after
// deploy.finish — the service fails there (unit/container failed, OOM kill of the service, health
// probe failed and not recovered). It succeeded when deploy.finish said ok (or, for a hook-only
// deploy, every hook passed and its window has closed) and nothing failed after. Declared target
// hosts that reported nothing are pending. hosts_total = declared targets ∪ hosts that reported.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collector/analysis/deploy_window.h"
#include "collector/analysis/linker.h"
#include "collector/analysis/release_model.h"

namespace octolaunch::analysis {

enum class HostState { pending, inProgress, succeeded, failed };
const char* hostStateName(HostState state);

struct HostDeployState {
  std::string host;
  HostState state = HostState::pending;
  std::int64_t sinceNs = 0;         // when the host entered this state (0 for pending)
  std::string reason;               // one line: "hook migrate `./migrate.sh` exited 3"
  std::optional<EventRef> failure;  // the event that made it failed
  bool declared = false;            // a declared target host
  bool rollback = false;
  bool unfinished = false;
  bool afterDeploy = false;  // failed after a deploy.finish: the service itself is failing
};

struct ReleaseState {
  // pending, in_progress, succeeded, failed, partially_failed, pipeline_failed
  std::string status;
  std::vector<HostDeployState> hosts;  // ordered by host name
  int succeeded = 0, failed = 0, inProgress = 0, pending = 0;
  int total() const { return static_cast<int>(hosts.size()); }
  const HostDeployState* host(const std::string& name) const;
};

// linked: the release's linked events in time order. nowNs decides whether an open window is still
// in progress.
ReleaseState deployState(const Release& release, std::span<const DeployWindow> windows,
                         std::span<const LinkedFact> linked, std::int64_t nowNs,
                         const WindowOptions& options);

nlohmann::json releaseStateJson(const ReleaseState& state, std::span<const DeployWindow> windows);

// Failed hooks of one host whose phase+command never passed afterwards (the final attempt failed).
// `linked` in time order.
std::vector<const EventFact*> finalHookFailures(std::span<const LinkedFact> linked,
                                                const std::string& host);

}  // namespace octolaunch::analysis
