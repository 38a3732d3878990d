// What a host actually runs at deploy time, recorded as events for the release being deployed:
//  * artifact.observed — "sha256:<hex>" of the artifact file; for an image or container the
//    image's RepoDigests (what CI pushed) with the digest matching the image's repository;
//  * config.fingerprint — one entry per config file (kind "file") and per environment variable
//    NAME (kind "env", HMAC of "NAME=value");
//  * dependency.fingerprint — one entry per manifest file (kind "file") and per command (kind
//    "command", HMAC of its stdout+stderr).
// Values never leave the host: entries carry only keyed hashes (FingerprintKey), and each
// fingerprint carries the key's id (keyId), never the key. What cannot be
// read gives an entry with hmac "missing" (no such file, variable not set), "unreadable" (e.g.
// permission denied) or "failed" (a command that failed or timed out) — never an exception.
//
// Threads: synchronous (commands and the container CLI are run with timeouts); in the daemon on
// DeployFinishWorker's thread, never on its event loop.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/deploy/event_list.h"
#include "agent/services/fingerprint_key.h"
#include "agent/services/services_config.h"
#include "shared/event/event_sink.h"
#include "shared/util/clock.h"

namespace octolaunch::agent {
struct AgentConfig;
}

namespace octolaunch::deploy {

// Looks an environment variable up; nullopt when unset. Default: the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup processEnvLookup();

struct ObserveOptions {
  std::string release;
  EnvLookup processEnv = processEnvLookup();
  std::chrono::milliseconds imageInspectTimeout{10000};
};

// Appends the service's deploy-time events to `out` (none for what the service does not
// configure) and human notes (e.g. "image x has no RepoDigests") to `notes`.
void observeDeploy(const services::ServiceConfig& service, const services::FingerprintKey& key,
                   const ObserveOptions& options, const Clock& clock, EventList& out,
                   std::vector<std::string>& notes);

struct DeployObservationResult {
  std::size_t appended = 0;
  std::vector<std::string> warnings;  // for the deploy command to print on stderr
};

// What the daemon runs for a deploy.finish (after recordDeployFinish): at finish the host runs
// what the deploy installed (at start it still runs the previous release). Parses the services
// from config.raw, loads the fingerprint key (generating a per-host one into the spool dir when
// none is configured, with a warning that time only), observes `service` and appends the events
// to `sink`. Never throws — a deploy must not fail because of OctoLaunch: every problem becomes a
// warning. A service that is not configured observes nothing.
// processEnv: where a service with env_from_process looks its variables up; empty (the daemon,
// whose environment is not the deploy's) looks them up in the env files only.
DeployObservationResult observeForDeploy(const agent::AgentConfig& config,
                                         const std::string& service, const std::string& release,
                                         EventSink& sink, const Clock& clock,
                                         const EnvLookup& processEnv = processEnvLookup());

// What the daemon runs for a deploy.finish: writes <spool dir>/deploys/<service> so the daemon's
// HealthMonitor starts its watch period. Never throws; returns a warning when it could not.
std::optional<std::string> recordDeployFinish(const agent::AgentConfig& config,
                                              const std::string& service,
                                              const std::string& release, std::string_view outcome,
                                              const Clock& clock);

}  // namespace octolaunch::deploy
