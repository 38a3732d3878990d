#include "agent/config/agent_config.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "shared/util/sha256.h"

namespace octolaunch::agent {

namespace {

std::string typeName(const toml::node& node) {
  std::ostringstream out;
  out << node.type();
  return out.str();
}

// Reads the tables and keys of one file, naming `file` and the dotted key in every error.
class Reader final {
 public:
  Reader(const toml::table& root, std::string file, std::vector<std::string>& warnings)
      : root_(root), file_(std::move(file)), warnings_(warnings) {}

  [[noreturn]] void fail(std::string_view key, std::string_view message) const {
    throw ConfigError(file_ + ": " + std::string(key) + ": " + std::string(message));
  }

  const toml::table* section(std::string_view name) const {
    const toml::node* node = root_.get(name);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) fail(name, "expected a table, got " + typeName(*node));
    return node->as_table();
  }

  void readString(const toml::table* table, std::string_view section, std::string_view key,
                  std::string& out) const {
    const toml::node* node = lookup(table, key);
    if (node == nullptr) return;
    auto value = node->value<std::string>();
    if (!node->is_string() || !value)
      fail(dotted(section, key), "expected a string, got " + typeName(*node));
    out = *value;
  }

  template <typename T>
  void readUnsigned(const toml::table* table, std::string_view section, std::string_view key,
                    T& out, std::uint64_t min = 0) const {
    const toml::node* node = lookup(table, key);
    if (node == nullptr) return;
    if (!node->is_integer())
      fail(dotted(section, key), "expected an integer, got " + typeName(*node));
    std::int64_t v = node->as_integer()->get();
    if (v < 0 || static_cast<std::uint64_t>(v) < min ||
        static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) {
      fail(dotted(section, key), "value " + std::to_string(v) + " out of range (" +
                                     std::to_string(min) + ".." +
                                     std::to_string(std::numeric_limits<T>::max()) + ")");
    }
    out = static_cast<T>(v);
  }

  void warnUnknown(const toml::table* table, std::string_view section,
                   std::initializer_list<std::string_view> known) const {
    if (table == nullptr) return;
    for (const auto& [key, node] : *table) {
      bool found = false;
      for (auto k : known) found = found || k == key.str();
      if (!found) {
        warnings_.push_back(file_ + ": unknown key " + dotted(section, key.str()) + " (ignored)");
      }
    }
  }

 private:
  static std::string dotted(std::string_view section, std::string_view key) {
    if (section.empty()) return std::string(key);
    return std::string(section) + "." + std::string(key);
  }
  const toml::node* lookup(const toml::table* table, std::string_view key) const {
    return table == nullptr ? nullptr : table->get(key);
  }

  const toml::table& root_;
  std::string file_;
  std::vector<std::string>& warnings_;
};

void fillFromTable(AgentConfig& config, const std::string& name) {
  const toml::table& root = config.raw;
  Reader reader(root, name, config.warnings);
  reader.readString(&root, "", "agent_id", config.agentId);
  reader.readString(&root, "", "host", config.host);
  reader.readString(&root, "", "token", config.token);
  reader.readString(&root, "", "collector", config.collector);
  splitHostPort(config.collector, name + ": collector");

  const toml::table* spool = reader.section("spool");
  std::string dir;
  reader.readString(spool, "spool", "dir", dir);
  if (!dir.empty()) config.spool.dir = dir;
  reader.readUnsigned(spool, "spool", "max_bytes", config.spool.maxBytes, 1 << 20);
  reader.warnUnknown(spool, "spool", {"dir", "max_bytes"});

  const toml::table* hook = reader.section("hook");
  reader.readUnsigned(hook, "hook", "grace_seconds", config.hook.graceSeconds);
  reader.readUnsigned(hook, "hook", "tail_lines", config.hook.tailLines);
  reader.readUnsigned(hook, "hook", "max_line_bytes", config.hook.maxLineBytes, 64);
  reader.warnUnknown(hook, "hook", {"grace_seconds", "tail_lines", "max_line_bytes"});

  const toml::table* ship = reader.section("ship");
  reader.readUnsigned(ship, "ship", "batch_max_events", config.ship.batchMaxEvents, 1);
  reader.readUnsigned(ship, "ship", "window", config.ship.window, 1);
  reader.readUnsigned(ship, "ship", "backoff_max_ms", config.ship.backoffMaxMs, 100);
  reader.warnUnknown(ship, "ship", {"batch_max_events", "window", "backoff_max_ms"});

  // [sources.*], [service.*] and [fingerprint] belong to other components (agent/sources,
  // agent/services); only check they are tables.
  reader.section("sources");
  reader.section("service");
  reader.section("fingerprint");
  reader.warnUnknown(&root, "",
                     {"agent_id", "host", "token", "collector", "spool", "hook", "ship", "sources",
                      "service", "fingerprint"});
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

std::pair<std::string, std::uint16_t> splitHostPort(std::string_view address,
                                                    std::string_view what) {
  auto bad = [&](std::string_view why) -> ConfigError {
    return ConfigError(std::string(what) + ": expected HOST:PORT, got \"" + std::string(address) +
                       "\" (" + std::string(why) + ")");
  };
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) throw bad("no host or port");
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) throw bad("unbalanced brackets");
    host = host.substr(1, host.size() - 2);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    throw bad("bad port");
  }
  return {std::string(host), static_cast<std::uint16_t>(value)};
}

AgentConfig parseAgentConfig(std::string_view text, std::string_view name) {
  AgentConfig config;
  try {
    config.raw = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(std::string(name) + ":" + std::to_string(where.line) + ":" +
                      std::to_string(where.column) + ": " + std::string(e.description()));
  }
  fillFromTable(config, std::string(name));
  return config;
}

AgentConfig loadAgentConfig(const std::optional<std::filesystem::path>& explicitPath,
                            const ConfigOverrides& overrides, const IdentitySources& identity) {
  std::filesystem::path path =
      explicitPath ? *explicitPath : std::filesystem::path(std::string(kDefaultAgentConfigPath));
  AgentConfig config;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    if (explicitPath || exists) {
      throw ConfigError(
          path.string() + ": cannot read config file" +
          (exists ? std::string(" (permission denied?)") : std::string(": no such file")));
    }
  } else {
    std::stringstream text;
    text << in.rdbuf();
    config = parseAgentConfig(text.str(), path.string());
    config.file = path;
  }
  if (overrides.spoolDir) config.spool.dir = *overrides.spoolDir;
  if (overrides.collector) {
    splitHostPort(*overrides.collector, "--collector");
    config.collector = *overrides.collector;
  }
  if (overrides.agentId) config.agentId = *overrides.agentId;
  if (overrides.host) config.host = *overrides.host;
  if (overrides.token) config.token = *overrides.token;
  if (config.host.empty()) config.host = identity.hostname ? *identity.hostname : localHostname();
  if (config.agentId.empty()) config.agentId = defaultAgentId(identity);
  return config;
}

}  // namespace octolaunch::agent
