#include "collector/config/collector_config.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace octolaunch::collector {

namespace {

std::string typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    default:
      return "date/time";
  }
}

// Reads one section's keys, naming "file: section.key" in every error.
class SectionReader {
 public:
  SectionReader(const toml::table& root, std::string_view section, std::string file,
                std::vector<std::string>& warnings)
      : section_(section), file_(std::move(file)), warnings_(warnings) {
    const toml::node* node = root.get(section);
    if (node == nullptr) return;
    table_ = node->as_table();
    if (table_ == nullptr) {
      throw ConfigError(file_ + ": " + std::string(section) + ": expected a table, got " +
                        typeName(*node));
    }
  }

  ~SectionReader() {
    if (table_ == nullptr) return;
    for (const auto& [key, value] : *table_) {
      if (!known_.count(std::string(key.str()))) {
        warnings_.push_back(file_ + ": unknown key " + name(key.str()) + " (ignored)");
      }
    }
  }

  void string(std::string_view key, std::string& out) {
    if (const toml::node* n = lookup(key)) {
      if (!n->is_string()) fail(key, "expected a string, got " + typeName(*n));
      out = **n->as_string();
    }
  }

  template <typename T>
  void unsignedInt(std::string_view key, T& out, std::uint64_t min, std::uint64_t max) {
    if (const toml::node* n = lookup(key)) {
      if (!n->is_integer()) fail(key, "expected an integer, got " + typeName(*n));
      const std::int64_t v = **n->as_integer();
      if (v < 0 || static_cast<std::uint64_t>(v) < min || static_cast<std::uint64_t>(v) > max) {
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      ", got " + std::to_string(v));
      }
      out = static_cast<T>(v);
    }
  }

  void byteSize(std::string_view key, std::size_t& out, std::size_t min) {
    if (const toml::node* n = lookup(key)) {
      std::optional<std::size_t> v;
      if (n->is_integer() && **n->as_integer() >= 0) {
        v = static_cast<std::size_t>(**n->as_integer());
      } else if (n->is_string()) {
        v = parseByteSize(**n->as_string());
      }
      if (!v) fail(key, "expected a size such as 8GiB or an integer of bytes");
      if (*v < min) fail(key, "must be at least " + std::to_string(min) + " bytes");
      out = *v;
    }
  }

  void stringList(std::string_view key, std::vector<std::string>& out) {
    if (const toml::node* n = lookup(key)) {
      const toml::array* arr = n->as_array();
      if (arr == nullptr) fail(key, "expected an array of strings, got " + typeName(*n));
      out.clear();
      for (const toml::node& item : *arr) {
        if (!item.is_string()) fail(key, "expected an array of strings, found a " + typeName(item));
        out.push_back(**item.as_string());
      }
    }
  }

  void address(std::string_view key, std::string& out) {
    string(key, out);
    if (lookup(key) && !parseListenAddress(out)) {
      fail(key, "expected HOST:PORT (port 0 to 65535), got \"" + out + "\"");
    }
  }

  [[noreturn]] void fail(std::string_view key, const std::string& what) const {
    throw ConfigError(file_ + ": " + name(key) + ": " + what);
  }

 private:
  const toml::node* lookup(std::string_view key) {
    known_.insert(std::string(key));
    return table_ == nullptr ? nullptr : table_->get(key);
  }
  std::string name(std::string_view key) const { return section_ + "." + std::string(key); }

  std::string section_;
  std::string file_;
  std::vector<std::string>& warnings_;
  const toml::table* table_ = nullptr;
  std::set<std::string> known_;
};

}  // namespace

std::optional<std::size_t> parseByteSize(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  struct Unit {
    std::string_view name;
    std::uint64_t factor;
  };
  static constexpr Unit kUnits[] = {{"", 1},
                                    {"B", 1},
                                    {"KiB", 1ull << 10},
                                    {"MiB", 1ull << 20},
                                    {"GiB", 1ull << 30},
                                    {"TiB", 1ull << 40},
                                    {"KB", 1000ull},
                                    {"MB", 1000'000ull},
                                    {"GB", 1000'000'000ull},
                                    {"TB", 1000'000'000'000ull}};
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      if (number > UINT64_MAX / u.factor) return std::nullopt;
      return static_cast<std::size_t>(number * u.factor);
    }
  }
  return std::nullopt;
}

std::optional<ListenAddress> parseListenAddress(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) return std::nullopt;
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(value)};
}

CollectorConfig parseCollectorConfig(std::string_view text, std::string_view name) {
  CollectorConfig config;
  const std::string file(name);
  try {
    config.raw = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << file << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    throw ConfigError(msg.str());
  }
  const toml::table& root = config.raw;
  for (const auto& [key, value] : root) {
    static const std::set<std::string> kOwn = {"store", "rpc", "http", "log"};
    if (!kOwn.count(std::string(key.str())) && !value.is_table()) {
      config.warnings.push_back(file + ": unknown key " + std::string(key.str()) + " (ignored)");
    }
  }
  {
    SectionReader store(root, "store", file, config.warnings);
    std::string dir = config.store.dataDir.string();
    store.string("data_dir", dir);
    if (dir.empty()) store.fail("data_dir", "must not be empty");
    config.store.dataDir = dir;
    store.byteSize("map_size", config.store.mapSize, std::size_t{1} << 20);
  }
  {
    SectionReader rpc(root, "rpc", file, config.warnings);
    rpc.address("listen", config.rpc.listen);
    rpc.stringList("tokens", config.rpc.tokens);
    for (const std::string& t : config.rpc.tokens) {
      if (t.empty()) rpc.fail("tokens", "a token must not be empty");
    }
    rpc.byteSize("max_message_bytes", config.rpc.maxMessageBytes, 64 * 1024);
    rpc.unsignedInt("max_nesting", config.rpc.maxNesting, 8, 64);
    rpc.byteSize("flow_limit_bytes", config.rpc.flowLimitBytes, 64 * 1024);
    rpc.unsignedInt("max_batch_events", config.rpc.maxBatchEvents, 1, 1'000'000);
  }
  {
    SectionReader http(root, "http", file, config.warnings);
    http.address("listen", config.http.listen);
    http.unsignedInt("threads", config.http.threads, 1, 256);
    http.unsignedInt("read_timeout_ms", config.http.readTimeoutMs, 1, 600'000);
    http.unsignedInt("write_timeout_ms", config.http.writeTimeoutMs, 1, 600'000);
    http.unsignedInt("keep_alive_timeout_ms", config.http.keepAliveTimeoutMs, 1, 600'000);
    http.byteSize("max_body_bytes", config.http.maxBodyBytes, 1024);
  }
  {
    SectionReader log(root, "log", file, config.warnings);
    log.string("level", config.logLevel);
    static const std::set<std::string> kLevels = {"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
    if (!kLevels.count(config.logLevel)) {
      log.fail("level", "expected one of trace, debug, info, warn, error, critical, off, got \"" +
                            config.logLevel + "\"");
    }
  }
  return config;
}

CollectorConfig loadCollectorConfig(const std::filesystem::path& path, bool explicitPath) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!explicitPath && !std::filesystem::exists(path, ec)) return CollectorConfig{};
    throw ConfigError(path.string() + ": cannot read the config file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parseCollectorConfig(text.str(), path.string());
}

}  // namespace octolaunch::collector
