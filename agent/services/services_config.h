// The services the agent knows about: the [service.NAME] tables of agent.toml, plus the
// [fingerprint] table (the fleet key for keyed hashes). packaging/config/agent.toml documents
// every key; in short:
//
// clang-format off
//   [fingerprint]
//   key = "..."                          # the fleet HMAC key itself, or
//   key_file = "/etc/octolaunch/fingerprint.key"
//                                        # neither: a per-host key is generated into the spool dir
//                                        # (fleet-wide comparison then needs a shared key; warned)
//                                        # fingerprints carry the key's id: only equal ids compare
//   [commands]
//   run_as = "nobody"                    # health probe and dependency commands run as this user;
//                                        # empty: the agent's own (run_as.h says what it needs)
//   [service.api]
//   run_as = "api"                       # overrides [commands] run_as for this service
//   units = ["api.service"]              # systemd units
//   containers = ["api"]                 # container names (or images)
//   artifact = "/opt/api/api.tar.gz"     # a file whose sha256 is observed at deploy time,
//   image = "registry.example/api:1.4"   # and/or an image whose RepoDigests are observed
//   config_files = ["/etc/api/api.conf"]
//   env = ["DATABASE_URL"]               # variable NAMES; values are only ever hashed
//   env_file = "/etc/default/api"        # string or array; looked up before the process env
//   env_from_process = true              # also look in the agent process's own environment
//   dependency_manifests = ["/opt/api/package-lock.json"]
//   dependency_commands = ["dpkg -l"]
//   dependency_command_timeout_ms = 30000
//   health = [{ type = "http", url = "http://127.0.0.1:8080/healthz", expect_status = 200,
//               timeout_ms = 2000 },
//             { type = "tcp", address = "127.0.0.1:5432" },
//             { type = "command", command = "/usr/local/bin/check", timeout_ms = 5000 }]
//   health_watch_seconds = 300           # after deploy.finish: probe every
//   health_watch_interval_seconds = 5    #   this many seconds
//   health_interval_seconds = 60         # outside the watch period
// clang-format on
//
// Contract: parseServicesConfig() returns every service (sorted by name) with defaults filled.
// Read under the rule of shared/config/toml_reader.h: strictly, a problem is a ConfigError naming
// file, line and key:
//   "agent.toml:31: service.api.health[1].type: expected one of http, tcp, command, got \"ftp\"";
// leniently, it is a warning, the value keeps its default, and a probe without a valid type or
// target is left out. Array indices in messages are 0-based.
#pragma once

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/config/toml_reader.h"

namespace octolaunch::services {

using ServicesConfigError = config::ConfigError;

enum class ProbeType { http, tcp, command };
std::string_view probeTypeName(ProbeType type);

struct HealthProbeConfig {
  ProbeType type = ProbeType::http;
  std::string url;              // http: "http://HOST[:PORT]/PATH" (plain HTTP only)
  unsigned expectStatus = 200;  // http
  std::string address;          // tcp: "HOST:PORT"
  std::string command;          // command: run with /bin/sh -c; healthy when it exits 0
  std::string runAs;            // command: the service's run_as (empty: the agent's user)
  std::chrono::milliseconds timeout{2000};

  // What the probe looks at, as events name it: the URL, the address or the command.
  const std::string& target() const;
};

struct ServiceConfig {
  std::string name;
  std::vector<std::string> units;
  std::vector<std::string> containers;
  std::filesystem::path artifact;  // empty: none
  std::string image;               // empty: none
  std::vector<std::filesystem::path> configFiles;
  std::vector<std::string> env;
  std::vector<std::filesystem::path> envFiles;
  bool envFromProcess = true;
  std::vector<std::filesystem::path> dependencyManifests;
  std::vector<std::string> dependencyCommands;
  // The user its commands (dependency commands, command probes) run as: [service.NAME] run_as,
  // else [commands] run_as; empty: the agent's own user.
  std::string runAs;
  std::chrono::milliseconds dependencyCommandTimeout{30000};
  std::vector<HealthProbeConfig> health;
  std::chrono::milliseconds healthWatch{std::chrono::seconds(300)};
  std::chrono::milliseconds healthWatchInterval{std::chrono::seconds(5)};
  std::chrono::milliseconds healthInterval{std::chrono::seconds(60)};
};

struct FingerprintSettings {
  std::optional<std::string> key;
  std::optional<std::filesystem::path> keyFile;
};

struct ServicesConfig {
  std::vector<ServiceConfig> services;
  FingerprintSettings fingerprint;
  std::string runAs;                  // [commands] run_as: the default of every service
  std::vector<std::string> warnings;  // lenient reading: the problems found

  // nullptr when no service of that name is configured.
  const ServiceConfig* find(std::string_view name) const;
};

// Reads [service.*], [commands] and [fingerprint] from the whole agent config table
// (AgentConfig::raw); problems go to `report`.
ServicesConfig readServicesConfig(const toml::table& root, config::ConfigReport& report);
// readServicesConfig() with the rule applied: strict throws ConfigError naming every problem.
ServicesConfig parseServicesConfig(const toml::table& root,
                                   config::Strictness strictness = config::Strictness::strict);

// A plain-HTTP URL split for a client: "http://127.0.0.1:8080/healthz" -> {127.0.0.1, 8080,
// /healthz}.
struct HttpUrl {
  std::string host;
  std::uint16_t port = 80;
  std::string target = "/";  // path and query
};
// nullopt when url is not http://HOST[:PORT][/PATH] (https is not supported).
std::optional<HttpUrl> parseHttpUrl(std::string_view url);

// True for names usable as a file name under the spool dir: [A-Za-z0-9._@-]+, not "." or "..",
// at most 128 bytes. Service names must be such names.
bool isValidServiceName(std::string_view name);

}  // namespace octolaunch::services
