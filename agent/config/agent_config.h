// The agent's configuration: one TOML file (default /etc/octolaunch/agent.toml) read by every
// subcommand, with command-line flags layered on top.
//
// Contract
//  * Read through shared/config/toml_reader.h, under its rule: `run` and --check-config read
//    strictly (every problem is an error: ConfigError naming file, line and key, e.g.
//    "agent.toml:7: spool.max_bytes: expected an integer, got a string"); `hook` and `deploy` read
//    leniently (problems land in AgentConfig::warnings and the offending values keep defaults).
//  * A missing DEFAULT file is not an error (all defaults apply); a missing EXPLICIT --config file
//    is.
//  * Sections owned by other components ([sources.*], [service.NAME], [fingerprint]) are not
//    interpreted here: AgentConfig::raw keeps the whole parsed table so those components read their
//    own sections (into the same ConfigReport when the whole file is checked).
//  * The default agent id is a hash of /etc/machine-id, never the raw id (it is confidential).
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "shared/config/toml_reader.h"

namespace octolaunch::agent {

inline constexpr std::string_view kDefaultAgentConfigPath = "/etc/octolaunch/agent.toml";
inline constexpr std::string_view kDefaultCollector = "127.0.0.1:7701";
inline constexpr std::string_view kDefaultSpoolDir = "/var/lib/octolaunch-agent/spool";

using ConfigError = config::ConfigError;

struct SpoolSettings {
  std::filesystem::path dir{std::string(kDefaultSpoolDir)};
  std::uint64_t maxBytes = std::uint64_t{256} << 20;
};

struct HookSettings {
  std::uint32_t graceSeconds = 5;
  std::uint32_t tailLines = 20;
  std::uint32_t maxLineBytes = 8192;
};

// How deploy users reach the daemon (agent/local). Empty paths are derived from the spool dir:
// see AgentConfig::socketPath() and queueDir().
struct LocalSettings {
  std::filesystem::path socket;
  std::filesystem::path queueDir;
  std::uint32_t maxConnections = 32;
  std::uint32_t maxConnectionsPerUser = 16;
  // The group that may connect to the socket (mode 0660); empty: every local user (0666).
  std::string socketGroup;
};

struct LogSettings {
  std::string level = "info";  // spdlog level name; SIGHUP applies a changed one
};

// Patterns (RE2 syntax) masked in recorded output on top of the redactor's built-in ones.
struct RedactSettings {
  std::vector<std::string> patterns;
};

struct ShipSettings {
  std::uint32_t batchMaxEvents = 2000;
  std::uint32_t window = 4;            // push calls in flight without an answer
  std::uint32_t backoffMaxMs = 30000;  // reconnect backoff ceiling (starts at 100 ms)
  std::uint32_t keepaliveMs = 60000;   // a ping after this long without a push
  std::string agentKeyFile;            // the enrolled key; empty: <spool dir>/agent.key
  // TLS to the collector ([ship] tls): unset means on unless the collector address is loopback
  // (shipTlsEnabled()). Files are PEM; empty means not set.
  std::optional<bool> tls;
  std::filesystem::path caFile;    // trust anchor; empty: the system's trust store
  std::string serverName;          // the name the certificate must carry; empty: the collector host
  std::filesystem::path certFile;  // client certificate and key, both or neither
  std::filesystem::path keyFile;
};

struct AgentConfig {
  std::string agentId;
  std::string host;
  std::string token;
  std::string collector{std::string(kDefaultCollector)};  // "HOST:PORT"
  SpoolSettings spool;
  HookSettings hook;
  RedactSettings redact;
  ShipSettings ship;
  LocalSettings local;
  LogSettings log;
  toml::table raw;             // the whole file, for components with their own sections
  std::filesystem::path file;  // the file read; empty when none was
  std::vector<std::string>
      warnings;  // lenient reading: the problems found, for the caller to print

  // The daemon's socket: [local] socket, else "agent.sock" beside the spool directory.
  std::filesystem::path socketPath() const;
  // The fallback queue: [local] queue_dir, else "queue" beside the spool directory.
  std::filesystem::path queueDir() const;
};

// Flags given on the command line; each set one replaces the config value.
struct ConfigOverrides {
  std::optional<std::string> spoolDir;
  std::optional<std::string> collector;
  std::optional<std::string> agentId;
  std::optional<std::string> host;
  std::optional<std::string> token;
};

// Where the default agent id and host come from; tests point these elsewhere.
struct IdentitySources {
  std::filesystem::path machineIdFile = "/etc/machine-id";
  std::optional<std::string> hostname;  // unset: gethostname()
};

// Reads explicitPath (a problem when missing) or the default path (fine when missing), applies the
// overrides and fills the defaults; problems go to `report` (a bad override too, named by its
// flag).
AgentConfig readAgentConfig(const std::optional<std::filesystem::path>& explicitPath,
                            const ConfigOverrides& overrides, const IdentitySources& identity,
                            config::ConfigReport& report);
// readAgentConfig() with the rule applied: strict throws ConfigError naming every problem; lenient
// returns them in AgentConfig::warnings.
AgentConfig loadAgentConfig(const std::optional<std::filesystem::path>& explicitPath,
                            const ConfigOverrides& overrides, const IdentitySources& identity = {},
                            config::Strictness strictness = config::Strictness::strict);

// Parses TOML text; `name` is what problems call the file. Does not apply identity defaults.
AgentConfig parseAgentConfig(std::string_view text, std::string_view name,
                             config::Strictness strictness = config::Strictness::strict);

// Hex SHA-256 of "octolaunch-agent:" + the machine id (trimmed), or of
// "octolaunch-agent-host:" + hostname when there is no readable machine id.
std::string defaultAgentId(const IdentitySources& identity);
std::string localHostname();

// Why `address` is not "HOST:PORT" ("[::1]:7701" too): "expected HOST:PORT, got ..."; nullopt
// when it is.
std::optional<std::string> hostPortProblem(std::string_view address);
// Splits "HOST:PORT"; throws ConfigError naming `what` when malformed.
std::pair<std::string, std::uint16_t> splitHostPort(std::string_view address,
                                                    std::string_view what);

// Whether the shipper speaks TLS: [ship] tls when set; otherwise on for a collector beyond
// loopback (127.0.0.0/8, ::1, localhost), off on loopback so the quick start needs no certificate.
bool shipTlsEnabled(const AgentConfig& config);
// The name the collector's certificate must carry: [ship] server_name, else the collector's host.
std::string shipServerName(const AgentConfig& config);

// Lower-case hex SHA-256 of data (OpenSSL EVP).
std::string sha256Hex(std::string_view data);

}  // namespace octolaunch::agent
