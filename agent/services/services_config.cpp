#include "agent/services/services_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "agent/config/agent_config.h"

namespace octolaunch::services {

namespace {

using config::TableReader;

std::string indexed(std::string_view key, std::size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

// A string or an array of strings, none empty.
void readStrings(TableReader& reader, std::string_view key, std::vector<std::string>& out) {
  const toml::node* node = reader.node(key);
  if (node == nullptr) return;
  if (node->is_string()) {
    if (node->as_string()->get().empty()) {
      reader.reject(key, "must not be empty");
      return;
    }
    out = {node->as_string()->get()};
    return;
  }
  if (!node->is_array()) {
    reader.expected(key, "an array of strings");
    return;
  }
  std::vector<std::string> values;
  bool ok = true;
  const toml::array& array = *node->as_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) {
      reader.expected(indexed(key, i), "a string", &array[i]);
      ok = false;
    } else if (array[i].as_string()->get().empty()) {
      reader.reject(indexed(key, i), "must not be empty", &array[i]);
      ok = false;
    } else {
      values.push_back(array[i].as_string()->get());
    }
  }
  if (ok) out = std::move(values);
}

void readPaths(TableReader& reader, std::string_view key, std::vector<std::filesystem::path>& out) {
  std::vector<std::string> values;
  readStrings(reader, key, values);
  for (const std::string& value : values) {
    if (value.front() != '/') {
      reader.reject(key, "expected an absolute path, got \"" + value + "\"");
      return;
    }
  }
  out.assign(values.begin(), values.end());
}

void readMillis(TableReader& reader, std::string_view key, std::chrono::milliseconds& out,
                std::int64_t minMs, std::int64_t maxMs) {
  std::int64_t ms = 0;
  if (reader.read(key, ms, minMs, maxMs)) out = std::chrono::milliseconds(ms);
}

// Seconds may be fractional (0.05), which tests and impatient operators use.
void readSeconds(TableReader& reader, std::string_view key, std::chrono::milliseconds& out,
                 double minS, double maxS) {
  double seconds = 0;
  if (reader.read(key, seconds, minS, maxS)) {
    out = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000.0)));
  }
}

// A non-empty string the probe cannot do without.
std::optional<std::string> readRequired(TableReader& reader, std::string_view key) {
  std::string value;
  const bool found = reader.read(key, value);
  if (found && !value.empty()) return value;
  if (reader.node(key) == nullptr || found) reader.reject(key, "required (a non-empty string)");
  return std::nullopt;
}

// nullopt (the problem recorded) when the probe has no valid type or target.
std::optional<HealthProbeConfig> readProbe(const toml::node& node, const std::string& path,
                                           const std::string& file, config::ConfigReport& report) {
  TableReader reader(node.as_table(), path, file, report);
  if (!node.is_table()) {
    report.add({.file = file,
                .line = node.source().begin.line,
                .key = path,
                .message = "expected an inline table, got " + std::string(config::typeName(node))});
    return std::nullopt;
  }
  HealthProbeConfig probe;
  const std::optional<std::string> type = readRequired(reader, "type");
  if (!type || (*type != "http" && *type != "tcp" && *type != "command")) {
    // Which keys belong depends on the type: none is called unknown.
    reader.known({"url", "expect_status", "address", "command", "timeout_ms"});
  }
  if (!type) return std::nullopt;
  std::optional<std::string> target;
  if (*type == "http") {
    probe.type = ProbeType::http;
    target = readRequired(reader, "url");
    if (target && !parseHttpUrl(*target)) {
      reader.reject("url",
                    "expected http://HOST[:PORT][/PATH], got \"" + *target + "\"" +
                        (target->starts_with("https://") ? " (https is not supported)" : ""));
      target.reset();
    }
    if (target) probe.url = *target;
    reader.read("expect_status", probe.expectStatus, 100, 599);
  } else if (*type == "tcp") {
    probe.type = ProbeType::tcp;
    target = readRequired(reader, "address");
    if (target) {
      if (auto problem = agent::hostPortProblem(*target)) {
        reader.reject("address", *problem);
        target.reset();
      }
    }
    if (target) probe.address = *target;
  } else if (*type == "command") {
    probe.type = ProbeType::command;
    probe.timeout = std::chrono::milliseconds(10000);
    target = readRequired(reader, "command");
    if (target) probe.command = *target;
  } else {
    reader.reject("type", "expected one of http, tcp, command, got \"" + *type + "\"");
    return std::nullopt;
  }
  readMillis(reader, "timeout_ms", probe.timeout, 1, 600000);
  if (!target) return std::nullopt;
  return probe;
}

// A user name or uid, or empty for the agent's own user; whether it exists is checked when a
// command runs (configuration management may create the user after the agent starts).
void readRunAs(TableReader& reader, std::string& out) {
  std::string user;
  if (!reader.read("run_as", user)) return;
  const bool plausible = user.size() <= 256 && !user.starts_with('-') &&
                         std::all_of(user.begin(), user.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
                                  c == '$';
                         });
  if (!plausible) {
    reader.reject("run_as", "expected a user name or uid, got \"" + user + "\"");
    return;
  }
  out = user;
}

ServiceConfig readService(const std::string& name, TableReader& reader,
                          config::ConfigReport& report, const std::string& defaultRunAs) {
  ServiceConfig service;
  service.name = name;
  service.runAs = defaultRunAs;
  readRunAs(reader, service.runAs);
  readStrings(reader, "units", service.units);
  readStrings(reader, "containers", service.containers);
  std::string artifact;
  if (reader.read("artifact", artifact)) {
    if (artifact.empty() || artifact.front() != '/') {
      reader.reject("artifact", "expected an absolute path, got \"" + artifact + "\"");
    } else {
      service.artifact = artifact;
    }
  }
  reader.read("image", service.image);
  readPaths(reader, "config_files", service.configFiles);
  std::vector<std::string> env;
  readStrings(reader, "env", env);
  for (std::size_t i = 0; i < env.size(); ++i) {
    if (env[i].find('=') != std::string::npos) {
      reader.reject(
          indexed("env", i),
          "expected a variable NAME (values are never written in the config), got one with '='",
          reader.node("env"));
      env.clear();
    }
  }
  service.env = std::move(env);
  readPaths(reader, "env_file", service.envFiles);
  reader.read("env_from_process", service.envFromProcess);
  readPaths(reader, "dependency_manifests", service.dependencyManifests);
  readStrings(reader, "dependency_commands", service.dependencyCommands);
  readMillis(reader, "dependency_command_timeout_ms", service.dependencyCommandTimeout, 1, 600000);

  if (const toml::node* health = reader.node("health")) {
    const std::string path = reader.keyPath("health");
    auto add = [&](const toml::node& probe, const std::string& probePath) {
      if (auto parsed = readProbe(probe, probePath, reader.file(), report)) {
        service.health.push_back(std::move(*parsed));
      }
    };
    if (health->is_table()) {
      add(*health, path);
    } else if (health->is_array()) {
      const toml::array& probes = *health->as_array();
      for (std::size_t i = 0; i < probes.size(); ++i) add(probes[i], indexed(path, i));
    } else {
      reader.expected("health", "an array of tables");
    }
  }
  readSeconds(reader, "health_watch_seconds", service.healthWatch, 0, 86400);
  readSeconds(reader, "health_watch_interval_seconds", service.healthWatchInterval, 0.001, 86400);
  readSeconds(reader, "health_interval_seconds", service.healthInterval, 0.001, 86400);
  for (HealthProbeConfig& probe : service.health) {
    if (probe.type == ProbeType::command) probe.runAs = service.runAs;
  }
  return service;
}

}  // namespace

std::string_view probeTypeName(ProbeType type) {
  switch (type) {
    case ProbeType::http:
      return "http";
    case ProbeType::tcp:
      return "tcp";
    case ProbeType::command:
      return "command";
  }
  return "unknown";
}

const std::string& HealthProbeConfig::target() const {
  switch (type) {
    case ProbeType::http:
      return url;
    case ProbeType::tcp:
      return address;
    case ProbeType::command:
      return command;
  }
  return url;
}

const ServiceConfig* ServicesConfig::find(std::string_view name) const {
  for (const auto& service : services) {
    if (service.name == name) return &service;
  }
  return nullptr;
}

bool isValidServiceName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '@';
  });
}

std::optional<HttpUrl> parseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  HttpUrl out;
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.target = std::string(url.substr(slash));
    if (out.target.front() == '?') out.target.insert(0, "/");
  }
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close < 2) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty() || host.find(':') != std::string_view::npos) return std::nullopt;
  }
  if (host.empty()) return std::nullopt;
  out.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

ServicesConfig readServicesConfig(const toml::table& root, config::ConfigReport& report) {
  ServicesConfig config;
  {
    TableReader fingerprint = TableReader::topSection(root, "fingerprint", report);
    std::string key;
    if (fingerprint.read("key", key)) {
      if (key.size() < 16) {
        fingerprint.reject("key",
                           "too short: use at least 16 characters (32 random bytes, hex, is best)");
      } else {
        config.fingerprint.key = key;
      }
    }
    std::string keyFile;
    if (fingerprint.read("key_file", keyFile)) {
      if (keyFile.empty() || keyFile.front() != '/') {
        fingerprint.reject("key_file", "expected an absolute path, got \"" + keyFile + "\"");
      } else if (config.fingerprint.key) {
        fingerprint.reject("key_file", "set key or key_file, not both");
      } else {
        config.fingerprint.keyFile = keyFile;
      }
    }
  }
  {
    TableReader commands = TableReader::topSection(root, "commands", report);
    readRunAs(commands, config.runAs);
  }
  TableReader services = TableReader::topSection(root, "service", report);
  if (services.table() != nullptr) {
    for (const auto& [key, node] : *services.table()) {
      const std::string name(key.str());
      if (!isValidServiceName(name)) {
        services.node(name);  // named by the problem below, not also as unknown
        services.reject(
            name, "a service name may hold only letters, digits and . _ @ - (it names a file)");
        continue;
      }
      TableReader service = services.section(name);
      if (service.table() != nullptr) {
        config.services.push_back(readService(name, service, report, config.runAs));
      }
    }
  }
  std::sort(config.services.begin(), config.services.end(),
            [](const ServiceConfig& a, const ServiceConfig& b) { return a.name < b.name; });
  return config;
}

ServicesConfig parseServicesConfig(const toml::table& root, config::Strictness strictness) {
  return config::readSettled<ServicesConfig>(readServicesConfig, root, strictness);
}

}  // namespace octolaunch::services
