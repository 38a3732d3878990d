#include "agent/config/agent_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <limits>

#include "shared/config/reload_scope.h"
#include "shared/util/sha256.h"

namespace octolaunch::agent {

namespace {

constexpr std::int64_t kMaxU32 = 0xffffffffLL;

// The agent's own keys; the sections of other components are only declared known.
void readAgentSections(const toml::table& document, AgentConfig& config,
                       config::ConfigReport& report) {
  config::TableReader root(document, report);
  root.read("agent_id", config.agentId);
  root.read("host", config.host);
  root.read("token", config.token);
  std::string collector;
  if (root.read("collector", collector)) {
    if (auto problem = hostPortProblem(collector)) {
      root.reject("collector", *problem);
    } else {
      config.collector = collector;
    }
  }
  root.known({"sources", "service", "commands", "fingerprint"});
  {
    config::TableReader spool = root.section("spool");
    spool.readNonEmpty("dir", config.spool.dir);
    spool.read("max_bytes", config.spool.maxBytes, std::int64_t{1} << 20,
               std::numeric_limits<std::int64_t>::max());
  }
  {
    config::TableReader hook = root.section("hook");
    hook.read("grace_seconds", config.hook.graceSeconds, 0, 3600);
    hook.read("tail_lines", config.hook.tailLines, 0, 100'000);
    hook.read("max_line_bytes", config.hook.maxLineBytes, 64, kMaxU32);
  }
  {
    config::TableReader local = root.section("local");
    local.read("socket", config.local.socket);
    local.read("queue_dir", config.local.queueDir);
    local.read("max_connections", config.local.maxConnections, 1, 65536);
    local.read("max_connections_per_user", config.local.maxConnectionsPerUser, 1, 65536);
    local.read("socket_group", config.local.socketGroup);
  }
  {
    config::TableReader log = root.section("log");
    std::string level;
    if (log.read("level", level)) {
      if (config::isLogLevelName(level)) {
        config.log.level = level;
      } else {
        log.reject("level", "expected one of " + std::string(config::kLogLevelNames) + ", got \"" +
                                level + "\"");
      }
    }
  }
  {
    config::TableReader redact = root.section("redact");
    redact.read("patterns", config.redact.patterns);
  }
  {
    config::TableReader ship = root.section("ship");
    ship.read("batch_max_events", config.ship.batchMaxEvents, 1, 1'000'000);
    ship.read("window", config.ship.window, 1, 1024);
    ship.read("backoff_max_ms", config.ship.backoffMaxMs, 100, 3'600'000);
    ship.read("keepalive_ms", config.ship.keepaliveMs, 100, 3'600'000);
    ship.read("agent_key_file", config.ship.agentKeyFile);
    bool tls = false;
    if (ship.read("tls", tls)) config.ship.tls = tls;
    ship.readNonEmpty("ca_file", config.ship.caFile);
    ship.read("server_name", config.ship.serverName);
    ship.readNonEmpty("cert_file", config.ship.certFile);
    ship.readNonEmpty("key_file", config.ship.keyFile);
    if (config.ship.certFile.empty() != config.ship.keyFile.empty()) {
      ship.reject(config.ship.certFile.empty() ? "key_file" : "cert_file",
                  "a client certificate needs both cert_file and key_file");
    }
  }
}

std::string trim(std::string s) {
  auto notSpace = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
  s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
  return s;
}

}  // namespace

std::string sha256Hex(std::string_view data) { return toHex(Sha256::of(data)); }

std::string localHostname() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "localhost";
  return std::string(buf.data());
}

std::string defaultAgentId(const IdentitySources& identity) {
  std::ifstream in(identity.machineIdFile);
  std::string machineId;
  if (in) std::getline(in, machineId);
  machineId = trim(machineId);
  if (!machineId.empty()) return sha256Hex("octolaunch-agent:" + machineId);
  std::string host = identity.hostname ? *identity.hostname : localHostname();
  return sha256Hex("octolaunch-agent-host:" + host);
}

std::optional<std::string> hostPortProblem(std::string_view address) {
  auto bad = [&](std::string_view why) {
    return "expected HOST:PORT, got \"" + std::string(address) + "\" (" + std::string(why) + ")";
  };
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("no host or port");
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.front() == '[' && (host.back() != ']' || host.size() < 3)) {
    return bad("unbalanced brackets");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("bad port");
  }
  return std::nullopt;
}

std::pair<std::string, std::uint16_t> splitHostPort(std::string_view address,
                                                    std::string_view what) {
  if (auto problem = hostPortProblem(address)) {
    throw ConfigError(std::string(what) + ": " + *problem);
  }
  const auto colon = address.rfind(':');
  std::string_view host = address.substr(0, colon);
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  std::from_chars(address.data() + colon + 1, address.data() + address.size(), port);
  return {std::string(host), static_cast<std::uint16_t>(port)};
}

bool shipTlsEnabled(const AgentConfig& config) {
  if (config.ship.tls) return *config.ship.tls;
  if (hostPortProblem(config.collector)) return true;
  const std::string host = splitHostPort(config.collector, "collector").first;
  in6_addr v6{};
  in_addr v4{};
  const bool loopback =
      host == "localhost" ||
      (inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
      (inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));
  return !loopback;
}

std::string shipServerName(const AgentConfig& config) {
  if (!config.ship.serverName.empty()) return config.ship.serverName;
  return splitHostPort(config.collector, "collector").first;
}

AgentConfig parseAgentConfig(std::string_view text, std::string_view name,
                             config::Strictness strictness) {
  AgentConfig config;
  config::ConfigReport report;
  if (auto document = config::parseToml(text, name, report)) {
    config.raw = std::move(*document);
    readAgentSections(config.raw, config, report);
  }
  config.warnings = report.settle(strictness);
  return config;
}

AgentConfig readAgentConfig(const std::optional<std::filesystem::path>& explicitPath,
                            const ConfigOverrides& overrides, const IdentitySources& identity,
                            config::ConfigReport& report) {
  const std::filesystem::path path =
      explicitPath ? *explicitPath : std::filesystem::path(std::string(kDefaultAgentConfigPath));
  AgentConfig config;
  if (auto document = config::readTomlFile(path, explicitPath.has_value(), report)) {
    config.raw = std::move(*document);
    config.file = path;
    readAgentSections(config.raw, config, report);
  }
  if (overrides.spoolDir) config.spool.dir = *overrides.spoolDir;
  if (overrides.collector) {
    if (auto problem = hostPortProblem(*overrides.collector)) {
      report.add({.key = "--collector", .message = *problem});
    } else {
      config.collector = *overrides.collector;
    }
  }
  if (overrides.agentId) config.agentId = *overrides.agentId;
  if (overrides.host) config.host = *overrides.host;
  if (overrides.token) config.token = *overrides.token;
  if (config.host.empty()) config.host = identity.hostname ? *identity.hostname : localHostname();
  if (config.agentId.empty()) config.agentId = defaultAgentId(identity);
  return config;
}

AgentConfig loadAgentConfig(const std::optional<std::filesystem::path>& explicitPath,
                            const ConfigOverrides& overrides, const IdentitySources& identity,
                            config::Strictness strictness) {
  config::ConfigReport report;
  AgentConfig config = readAgentConfig(explicitPath, overrides, identity, report);
  config.warnings = report.settle(strictness);
  return config;
}

std::filesystem::path AgentConfig::socketPath() const {
  if (!local.socket.empty()) return local.socket;
  return spool.dir.parent_path() / "agent.sock";
}

std::filesystem::path AgentConfig::queueDir() const {
  if (!local.queueDir.empty()) return local.queueDir;
  return spool.dir.parent_path() / "queue";
}

}  // namespace octolaunch::agent
