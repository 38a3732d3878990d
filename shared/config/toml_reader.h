// Reading the TOML configuration files (agent.toml, collector.toml): every component reads its
// sections through TableReader, and one rule decides what a problem in the file does.
//
// The rule
//  * The daemons (`octolaunch-agent run`, `octolaunch-collector`) and `--check-config` read
//    STRICTLY: an unknown section or key, a value of the wrong type and a value out of range are
//    errors. The daemon prints every one, each naming file, line and key, and exits 1 without
//    starting anything.
//  * `octolaunch-agent hook` and `deploy` read LENIENTLY: the same problems are printed on stderr
//    as warnings and each offending value keeps its default. They never fail a deploy.
//  * A missing file named with --config is a problem like the others; a missing default file
//    (/etc/octolaunch/*.toml) is none: every default applies.
//  * A file that is not valid TOML is one problem, at the line of the syntax error; nothing in it
//    is used.
//
// Every problem reads "FILE:LINE: KEY: MESSAGE", e.g.
//    collector.toml:12: http.treads: unknown key; did you mean `threads`?
//    agent.toml:7: spool.max_bytes: expected an integer, got a string
//
// How a component reads its sections
//    TableReader spool = root.section("spool");
//    spool.read("max_bytes", settings.maxBytes, 1 << 20, kMaxBytes);  // default kept on a problem
//  When `spool` is destroyed, every key of [spool] that no read asked for is reported as unknown,
//  with the nearest key that was asked for. Keys read by another component are declared with
//  known(). Readers never throw for what a file says: they record problems in a ConfigReport, and
//  the caller applies the rule once, after every reader of the file has run (settle()), so that
//  --check-config lists every problem at once.
//
// Threads: none of this is shared; a ConfigReport and its readers belong to one thread.
#pragma once

#include <toml++/toml.h>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace octolaunch::config {

enum class Strictness {
  strict,   // daemons and --check-config: any problem is an error
  lenient,  // hook and deploy: problems are warnings, offending values keep their defaults
};

struct Issue {
  std::string file;        // as the file was named when read (its path); empty when unknown
  std::uint32_t line = 0;  // 1-based; 0 when there is no line (a missing file, a flag)
  std::string key;         // dotted: "http.listen", "service.api.health[1].type"; empty: the file
  std::string message;

  // "FILE:LINE: KEY: MESSAGE", leaving out the parts that are empty.
  std::string text() const;
};

// Thrown by ConfigReport::settle() in strict mode, and for bad command-line values. what() is every
// issue's text, one per line.
class ConfigError final : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<Issue> issues);
  explicit ConfigError(const std::string& message);
  const std::vector<Issue>& issues() const noexcept { return issues_; }

 private:
  std::vector<Issue> issues_;
};

// What the readers of one file found: its problems, and every key they asked for.
class ConfigReport final {
 public:
  void add(Issue issue);
  const std::vector<Issue>& issues() const noexcept { return issues_; }

  // Every dotted key and section the readers asked for, whether or not the file had it. Used to
  // check that the shipped example files document every key.
  const std::set<std::string>& askedKeys() const noexcept { return asked_; }
  void noteAsked(std::string key) { asked_.insert(std::move(key)); }

  // Applies the rule to the issues, ordered by file and line. strict: throws ConfigError naming
  // every issue, when there is one. lenient: returns their texts for the caller to print as
  // warnings.
  std::vector<std::string> settle(Strictness strictness) const;

 private:
  std::vector<Issue> issues_;
  std::set<std::string> asked_;
};

// One section reader run on its own, with the rule applied: `read(root, report)` fills a Config
// that has a `warnings` member. Strict throws ConfigError; lenient returns the problems as
// warnings.
template <typename Config, typename Read>
Config readSettled(Read read, const toml::table& root, Strictness strictness) {
  ConfigReport report;
  Config config = read(root, report);
  config.warnings = report.settle(strictness);
  return config;
}

// The parsed file. nullopt when there is nothing to read: a default path (explicitPath false) that
// does not exist, which is no problem, or a problem recorded in `report` (an explicit path that
// does not exist, a file that cannot be read, a syntax error).
std::optional<toml::table> readTomlFile(const std::filesystem::path& path, bool explicitPath,
                                        ConfigReport& report);
// TOML text; `fileName` names the file in issues (every node remembers it as source().path).
std::optional<toml::table> parseToml(std::string_view text, std::string_view fileName,
                                     ConfigReport& report);

// Reads the keys of one table. Each read() leaves `out` untouched when the key is absent, and
// also when its value is wrong, after recording the problem (its file, line and dotted key).
// Destroying the reader reports every key of the table that was neither read nor declared
// known(): "unknown key" or "unknown section" (when its value is a table), with the nearest
// asked-for key when one is close. The table and the report must outlive the reader.
class TableReader final {
 public:
  // The whole document.
  TableReader(const toml::table& root, ConfigReport& report);
  // A table named `path` (dotted); null when the file has no such table: every read then finds
  // nothing. `file` names the file when the table does not know it (an absent table).
  TableReader(const toml::table* table, std::string path, std::string file, ConfigReport& report);
  TableReader(TableReader&& other) noexcept;
  TableReader(const TableReader&) = delete;
  TableReader& operator=(const TableReader&) = delete;
  TableReader& operator=(TableReader&&) = delete;
  ~TableReader();

  // The sub-table `key`; a problem (and a reader over nothing) when the value is not a table.
  TableReader section(std::string_view key);
  // The top-level section `key` of a document whose top level another reader owns and checks
  // ([sources] of agent.toml, whose top level the agent's own reader checks).
  static TableReader topSection(const toml::table& root, std::string_view key,
                                ConfigReport& report);
  // Keys of this table that another component reads: never reported as unknown.
  void known(std::initializer_list<std::string_view> keys);

  bool read(std::string_view key, std::string& out);
  bool read(std::string_view key, bool& out);
  bool read(std::string_view key, std::filesystem::path& out);
  bool readNonEmpty(std::string_view key, std::filesystem::path& out);   // "" is a problem
  bool read(std::string_view key, std::vector<std::string>& out);        // an array of strings
  bool read(std::string_view key, double& out, double min, double max);  // integer or float
  template <std::integral T>
  bool read(std::string_view key, T& out, std::int64_t min, std::int64_t max) {
    const std::optional<std::int64_t> value = integer(key, min, max);
    if (!value) return false;
    out = static_cast<T>(*value);
    return true;
  }

  // The value of `key` in whatever shape (nullptr when absent), for a value the typed reads do
  // not cover; the key counts as asked for.
  const toml::node* node(std::string_view key);
  // Problems with a value read through node(): "expected WHAT, got TYPE", or any message. `at`
  // is the node whose line to give (default: the key's value, or the table when the key is
  // missing); `key` may carry an index ("units[2]").
  void expected(std::string_view key, std::string_view what, const toml::node* at = nullptr);
  void reject(std::string_view key, std::string message, const toml::node* at = nullptr);

  // "section.key", or "key" at the top level.
  std::string keyPath(std::string_view key) const;
  const std::string& file() const noexcept { return file_; }
  const toml::table* table() const noexcept { return table_; }

 private:
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  template <typename T>
  bool readValue(std::string_view key, T& out, std::string_view what);
  void reportUnknown();

  const toml::table* table_;
  std::string path_;
  std::string file_;
  ConfigReport* report_;  // null once moved from
  std::vector<std::string> asked_;
};

// "a string", "an integer", "a float", "a boolean", "an array", "a table", "a date", "a time",
// "a date-time".
std::string_view typeName(const toml::node& node);

// The candidate nearest to `word` by edit distance (a swap of two neighbours counts one), when
// near enough to be a typo: 1 edit for words up to 4 characters, else 2 or a third of the length,
// whichever is more. nullopt when none is.
std::optional<std::string> nearestKey(std::string_view word,
                                      const std::vector<std::string>& candidates);

}  // namespace octolaunch::config
