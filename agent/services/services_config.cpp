#include "agent/services/services_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <sstream>

#include "agent/config/agent_config.h"

namespace octolaunch::services {

namespace {

std::string typeName(const toml::node& node) {
  std::ostringstream out;
  out << node.type();
  return out.str();
}

[[noreturn]] void fail(const std::string& key, const std::string& message) {
  throw ServicesConfigError(key + ": " + message);
}

// Reads the keys of one table; every error names `prefix.key`.
class TableReader final {
 public:
  TableReader(const toml::table& table, std::string prefix, std::vector<std::string>& warnings)
      : table_(table), prefix_(std::move(prefix)), warnings_(warnings) {}

  std::string key(std::string_view k) const { return prefix_ + "." + std::string(k); }

  std::optional<std::string> string(std::string_view k) const {
    const toml::node* node = table_.get(k);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) fail(key(k), "expected a string, got " + typeName(*node));
    return node->as_string()->get();
  }

  std::string requiredString(std::string_view k) const {
    auto value = string(k);
    if (!value || value->empty()) fail(key(k), "required (a non-empty string)");
    return *value;
  }

  // A string or an array of strings.
  std::vector<std::string> strings(std::string_view k) const {
    std::vector<std::string> out;
    const toml::node* node = table_.get(k);
    if (node == nullptr) return out;
    if (node->is_string()) {
      out.push_back(node->as_string()->get());
      return out;
    }
    if (!node->is_array()) fail(key(k), "expected an array of strings, got " + typeName(*node));
    const toml::array& array = *node->as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      if (!array[i].is_string()) {
        fail(key(k) + "[" + std::to_string(i) + "]",
             "expected a string, got " + typeName(array[i]));
      }
      std::string value = array[i].as_string()->get();
      if (value.empty()) fail(key(k) + "[" + std::to_string(i) + "]", "must not be empty");
      out.push_back(std::move(value));
    }
    return out;
  }

  std::vector<std::filesystem::path> paths(std::string_view k) const {
    std::vector<std::filesystem::path> out;
    for (auto& s : strings(k)) {
      if (s.front() != '/') fail(key(k), "expected an absolute path, got \"" + s + "\"");
      out.emplace_back(s);
    }
    return out;
  }

  std::optional<bool> boolean(std::string_view k) const {
    const toml::node* node = table_.get(k);
    if (node == nullptr) return std::nullopt;
    if (!node->is_boolean()) fail(key(k), "expected a boolean, got " + typeName(*node));
    return node->as_boolean()->get();
  }

  // An integer (or, for seconds, a number) within [min, max].
  std::optional<double> number(std::string_view k, double min, double max, bool integerOnly) const {
    const toml::node* node = table_.get(k);
    if (node == nullptr) return std::nullopt;
    double value = 0;
    if (node->is_integer()) {
      value = static_cast<double>(node->as_integer()->get());
    } else if (node->is_floating_point() && !integerOnly) {
      value = node->as_floating_point()->get();
    } else {
      fail(key(k), std::string(integerOnly ? "expected an integer" : "expected a number") +
                       ", got " + typeName(*node));
    }
    if (!std::isfinite(value) || value < min || value > max) {
      std::ostringstream range;
      range << "value " << value << " out of range (" << min << ".." << max << ")";
      fail(key(k), range.str());
    }
    return value;
  }

  void millis(std::string_view k, std::chrono::milliseconds& out, double minMs,
              double maxMs) const {
    if (auto v = number(k, minMs, maxMs, true))
      out = std::chrono::milliseconds(static_cast<std::int64_t>(*v));
  }

  // Seconds may be fractional (0.05), which tests and impatient operators use.
  void seconds(std::string_view k, std::chrono::milliseconds& out, double minS, double maxS) const {
    if (auto v = number(k, minS, maxS, false)) {
      out = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(*v * 1000.0)));
    }
  }

  void warnUnknown(std::initializer_list<std::string_view> known) const {
    for (const auto& [k, node] : table_) {
      if (std::find(known.begin(), known.end(), k.str()) == known.end()) {
        warnings_.push_back("unknown key " + key(k.str()) + " (ignored)");
      }
    }
  }

 private:
  const toml::table& table_;
  std::string prefix_;
  std::vector<std::string>& warnings_;
};

HealthProbeConfig parseProbe(const toml::node& node, const std::string& prefix,
                             std::vector<std::string>& warnings) {
  if (!node.is_table()) fail(prefix, "expected an inline table, got " + typeName(node));
  TableReader reader(*node.as_table(), prefix, warnings);
  HealthProbeConfig probe;
  const std::string type = reader.requiredString("type");
  if (type == "http") {
    probe.type = ProbeType::http;
    probe.url = reader.requiredString("url");
    if (!parseHttpUrl(probe.url)) {
      fail(reader.key("url"),
           "expected http://HOST[:PORT][/PATH], got \"" + probe.url + "\"" +
               (probe.url.starts_with("https://") ? " (https is not supported)" : ""));
    }
    if (auto status = reader.number("expect_status", 100, 599, true)) {
      probe.expectStatus = static_cast<unsigned>(*status);
    }
    reader.warnUnknown({"type", "url", "expect_status", "timeout_ms"});
  } else if (type == "tcp") {
    probe.type = ProbeType::tcp;
    probe.address = reader.requiredString("address");
    try {
      agent::splitHostPort(probe.address, reader.key("address"));
    } catch (const agent::ConfigError& e) {
      throw ServicesConfigError(e.what());
    }
    reader.warnUnknown({"type", "address", "timeout_ms"});
  } else if (type == "command") {
    probe.type = ProbeType::command;
    probe.command = reader.requiredString("command");
    probe.timeout = std::chrono::milliseconds(10000);
    reader.warnUnknown({"type", "command", "timeout_ms"});
  } else {
    fail(reader.key("type"), "expected one of http, tcp, command, got \"" + type + "\"");
  }
  reader.millis("timeout_ms", probe.timeout, 1, 600000);
  return probe;
}

ServiceConfig parseService(const std::string& name, const toml::node& node,
                           std::vector<std::string>& warnings) {
  const std::string prefix = "service." + name;
  if (!isValidServiceName(name)) {
    fail(prefix, "a service name may hold only letters, digits and . _ @ - (it names a file)");
  }
  if (!node.is_table()) fail(prefix, "expected a table, got " + typeName(node));
  TableReader reader(*node.as_table(), prefix, warnings);
  ServiceConfig service;
  service.name = name;
  service.units = reader.strings("units");
  service.containers = reader.strings("containers");
  if (auto artifact = reader.string("artifact")) {
    if (artifact->empty() || artifact->front() != '/') {
      fail(reader.key("artifact"), "expected an absolute path, got \"" + *artifact + "\"");
    }
    service.artifact = *artifact;
  }
  service.image = reader.string("image").value_or("");
  service.configFiles = reader.paths("config_files");
  service.env = reader.strings("env");
  for (std::size_t i = 0; i < service.env.size(); ++i) {
    const std::string& var = service.env[i];
    if (var.find('=') != std::string::npos) {
      fail(reader.key("env") + "[" + std::to_string(i) + "]",
           "expected a variable NAME (values are never written in the config), got one with '='");
    }
  }
  service.envFiles = reader.paths("env_file");
  service.envFromProcess = reader.boolean("env_from_process").value_or(true);
  service.dependencyManifests = reader.paths("dependency_manifests");
  service.dependencyCommands = reader.strings("dependency_commands");
  reader.millis("dependency_command_timeout_ms", service.dependencyCommandTimeout, 1, 600000);

  if (const toml::node* health = node.as_table()->get("health")) {
    const std::string key = reader.key("health");
    if (health->is_table()) {
      service.health.push_back(parseProbe(*health, key, warnings));
    } else if (health->is_array()) {
      const toml::array& probes = *health->as_array();
      for (std::size_t i = 0; i < probes.size(); ++i) {
        service.health.push_back(
            parseProbe(probes[i], key + "[" + std::to_string(i) + "]", warnings));
      }
    } else {
      fail(key, "expected an array of tables, got " + typeName(*health));
    }
  }
  reader.seconds("health_watch_seconds", service.healthWatch, 0, 86400);
  reader.seconds("health_watch_interval_seconds", service.healthWatchInterval, 0.001, 86400);
  reader.seconds("health_interval_seconds", service.healthInterval, 0.001, 86400);
  reader.warnUnknown({"units", "containers", "artifact", "image", "config_files", "env", "env_file",
                      "env_from_process", "dependency_manifests", "dependency_commands",
                      "dependency_command_timeout_ms", "health", "health_watch_seconds",
                      "health_watch_interval_seconds", "health_interval_seconds"});
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

ServicesConfig parseServicesConfig(const toml::table& root) {
  ServicesConfig config;
  if (const toml::node* fingerprint = root.get("fingerprint")) {
    if (!fingerprint->is_table())
      fail("fingerprint", "expected a table, got " + typeName(*fingerprint));
    TableReader reader(*fingerprint->as_table(), "fingerprint", config.warnings);
    config.fingerprint.key = reader.string("key");
    if (config.fingerprint.key && config.fingerprint.key->size() < 16) {
      fail("fingerprint.key",
           "too short: use at least 16 characters (32 random bytes, hex, is best)");
    }
    if (auto keyFile = reader.string("key_file")) {
      if (keyFile->empty() || keyFile->front() != '/') {
        fail("fingerprint.key_file", "expected an absolute path, got \"" + *keyFile + "\"");
      }
      config.fingerprint.keyFile = *keyFile;
    }
    if (config.fingerprint.key && config.fingerprint.keyFile) {
      fail("fingerprint", "set key or key_file, not both");
    }
    reader.warnUnknown({"key", "key_file"});
  }
  if (const toml::node* services = root.get("service")) {
    if (!services->is_table())
      fail("service", "expected a table of [service.NAME] tables, got " + typeName(*services));
    for (const auto& [name, node] : *services->as_table()) {
      config.services.push_back(parseService(std::string(name.str()), node, config.warnings));
    }
  }
  std::sort(config.services.begin(), config.services.end(),
            [](const ServiceConfig& a, const ServiceConfig& b) { return a.name < b.name; });
  return config;
}

}  // namespace octolaunch::services
