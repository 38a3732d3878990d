#include "agent/sources/sources_config.h"

#include <set>
#include <string_view>

namespace octolaunch::sources {

namespace {

std::string typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "number";
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

// Reads one [sources.NAME] table, remembering which keys were used to report the others.
class Section final {
 public:
  Section(const toml::table* table, std::string prefix)
      : table_(table), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(std::string_view key, const std::string& message) const {
    throw SourcesConfigError(prefix_ + "." + std::string(key) + ": " + message);
  }

  const toml::node* node(std::string_view key) {
    used_.insert(std::string(key));
    return table_ == nullptr ? nullptr : table_->get(key);
  }

  void boolean(std::string_view key, bool& out) {
    if (const auto* n = node(key)) {
      const auto v = n->value<bool>();
      if (!n->is_boolean() || !v) fail(key, "expected true or false, got " + typeName(*n));
      out = *v;
    }
  }

  void string(std::string_view key, std::string& out) {
    if (const auto* n = node(key)) {
      if (!n->is_string()) fail(key, "expected a string, got " + typeName(*n));
      out = *n->value<std::string>();
    }
  }

  void path(std::string_view key, std::filesystem::path& out) {
    std::string s = out.string();
    string(key, s);
    out = s;
  }

  template <typename Int>
  void integer(std::string_view key, Int& out, std::int64_t min, std::int64_t max) {
    if (const auto* n = node(key)) {
      if (!n->is_integer()) fail(key, "expected an integer, got " + typeName(*n));
      const std::int64_t v = *n->value<std::int64_t>();
      if (v < min || v > max) {
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                      ", got " + std::to_string(v));
      }
      out = static_cast<Int>(v);
    }
  }

  void number(std::string_view key, double& out, double min, double max) {
    if (const auto* n = node(key)) {
      if (!n->is_number()) fail(key, "expected a number, got " + typeName(*n));
      const double v = *n->value<double>();
      if (!(v >= min && v <= max)) {
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      }
      out = v;
    }
  }

  void strings(std::string_view key, std::vector<std::string>& out) {
    if (const auto* n = node(key)) {
      const auto* array = n->as_array();
      if (array == nullptr) fail(key, "expected an array of strings, got " + typeName(*n));
      std::vector<std::string> values;
      for (const auto& element : *array) {
        if (!element.is_string())
          fail(key, "expected an array of strings, found a " + typeName(element));
        values.push_back(*element.value<std::string>());
      }
      out = std::move(values);
    }
  }

  void warnUnknown(std::vector<std::string>& warnings) const {
    if (table_ == nullptr) return;
    for (const auto& [key, value] : *table_) {
      if (!used_.contains(std::string(key.str()))) {
        warnings.push_back(prefix_ + "." + std::string(key.str()) + ": unknown key (ignored)");
      }
    }
  }

 private:
  const toml::table* table_;
  std::string prefix_;
  std::set<std::string> used_;
};

const toml::table* subTable(const toml::table* parent, std::string_view name,
                            const std::string& prefix) {
  if (parent == nullptr) return nullptr;
  const toml::node* n = parent->get(name);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) {
    throw SourcesConfigError(prefix + "." + std::string(name) + ": expected a table, got " +
                             typeName(*n));
  }
  return n->as_table();
}

constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;

}  // namespace

SourcesConfig parseSourcesConfig(const toml::table& root) {
  SourcesConfig config;
  const toml::node* sourcesNode = root.get("sources");
  if (sourcesNode != nullptr && !sourcesNode->is_table()) {
    throw SourcesConfigError("sources: expected a table, got " + typeName(*sourcesNode));
  }
  const toml::table* sources = sourcesNode == nullptr ? nullptr : sourcesNode->as_table();
  const std::set<std::string_view> sectionNames{"kmsg", "cgroup",  "psi",       "disk",
                                                "fd",   "journal", "containers"};

  Section top(sources, "sources");
  top.boolean("enabled", config.enabled);
  top.path("state_dir", config.stateDir);
  for (auto name : sectionNames) top.node(name);  // sections are known keys of [sources]
  top.warnUnknown(config.warnings);

  {
    Section s(subTable(sources, "kmsg", "sources"), "sources.kmsg");
    s.boolean("enabled", config.kmsg.enabled);
    s.path("device", config.kmsg.device);
    s.boolean("recover_previous_boot", config.kmsg.recoverPreviousBoot);
    s.path("journal_dir", config.kmsg.journalDir);
    s.warnUnknown(config.warnings);
  }
  {
    Section s(subTable(sources, "cgroup", "sources"), "sources.cgroup");
    s.boolean("enabled", config.cgroup.enabled);
    s.path("root", config.cgroup.root);
    s.strings("slices", config.cgroup.slices);
    s.strings("cgroups", config.cgroup.cgroups);
    s.integer("poll_interval_ms", config.cgroup.pollIntervalMs, 100, kMaxMs);
    s.integer("dedupe_window_ms", config.cgroup.dedupeWindowMs, 0, 60000);
    s.warnUnknown(config.warnings);
  }
  {
    Section s(subTable(sources, "psi", "sources"), "sources.psi");
    s.boolean("enabled", config.psi.enabled);
    s.strings("resources", config.psi.resources);
    for (const auto& r : config.psi.resources) {
      if (r != "memory" && r != "io" && r != "cpu")
        s.fail("resources", "unknown resource \"" + r + "\" (memory, io, cpu)");
    }
    s.number("some_avg10_percent", config.psi.someAvg10Percent, 0.0, 100.0);
    s.number("clear_avg10_percent", config.psi.clearAvg10Percent, 0.0, 100.0);
    if (config.psi.clearAvg10Percent > config.psi.someAvg10Percent) {
      s.fail("clear_avg10_percent", "must not exceed some_avg10_percent");
    }
    s.integer("trigger_stall_us", config.psi.triggerStallUs, 0, 10'000'000);
    s.integer("trigger_window_us", config.psi.triggerWindowUs, 0, 10'000'000);
    s.integer("poll_interval_ms", config.psi.pollIntervalMs, 100, kMaxMs);
    s.path("dir", config.psi.dir);
    s.warnUnknown(config.warnings);
  }
  {
    Section s(subTable(sources, "disk", "sources"), "sources.disk");
    s.boolean("enabled", config.disk.enabled);
    s.number("used_percent", config.disk.usedPercent, 0.0, 100.0);
    s.number("inode_used_percent", config.disk.inodeUsedPercent, 0.0, 100.0);
    s.number("clear_margin_percent", config.disk.clearMarginPercent, 0.0, 100.0);
    s.integer("interval_ms", config.disk.intervalMs, 100, kMaxMs);
    s.strings("mounts", config.disk.mounts);
    s.boolean("include_tmpfs", config.disk.includeTmpfs);
    s.path("mountinfo", config.disk.mountinfo);
    s.warnUnknown(config.warnings);
  }
  {
    Section s(subTable(sources, "fd", "sources"), "sources.fd");
    s.boolean("enabled", config.fd.enabled);
    s.number("used_percent", config.fd.usedPercent, 0.0, 100.0);
    s.number("clear_margin_percent", config.fd.clearMarginPercent, 0.0, 100.0);
    s.integer("interval_ms", config.fd.intervalMs, 100, kMaxMs);
    s.path("file_nr", config.fd.fileNr);
    s.warnUnknown(config.warnings);
  }
  {
    Section s(subTable(sources, "journal", "sources"), "sources.journal");
    s.boolean("enabled", config.journal.enabled);
    s.path("directory", config.journal.directory);
    s.integer("last_lines", config.journal.lastLines, 0, 1000);
    s.integer("oom_join_window_ms", config.journal.oomJoinWindowMs, 0, 600000);
    s.warnUnknown(config.warnings);
  }
  {
    Section s(subTable(sources, "containers", "sources"), "sources.containers");
    s.boolean("enabled", config.containers.enabled);
    s.strings("sockets", config.containers.sockets);
    s.integer("reconnect_max_ms", config.containers.reconnectMaxMs, 100, kMaxMs);
    s.warnUnknown(config.warnings);
  }
  return config;
}

}  // namespace octolaunch::sources
