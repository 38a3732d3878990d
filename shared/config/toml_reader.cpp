#include "shared/config/toml_reader.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace octolaunch::config {

namespace {

std::uint32_t lineOf(const toml::source_region& source) { return source.begin.line; }

std::string fileOf(const toml::source_region& source, const std::string& fallback) {
  return source.path ? *source.path : fallback;
}

std::string joinTexts(const std::vector<Issue>& issues) {
  std::string out;
  for (const Issue& issue : issues) out += (out.empty() ? "" : "\n") + issue.text();
  return out;
}

std::string formatNumber(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters each count one.
std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string Issue::text() const {
  std::string out = file;
  if (line != 0) out += (file.empty() ? "line " : ":") + std::to_string(line);
  if (!key.empty()) out += (out.empty() ? "" : ": ") + key;
  return out + (out.empty() ? "" : ": ") + message;
}

ConfigError::ConfigError(std::vector<Issue> issues)
    : std::runtime_error(joinTexts(issues)), issues_(std::move(issues)) {}

ConfigError::ConfigError(const std::string& message)
    : std::runtime_error(message), issues_{Issue{.message = message}} {}

void ConfigReport::add(Issue issue) { issues_.push_back(std::move(issue)); }

std::vector<std::string> ConfigReport::settle(Strictness strictness) const {
  std::vector<Issue> sorted = issues_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Issue& a, const Issue& b) {
    return std::tie(a.file, a.line) < std::tie(b.file, b.line);
  });
  if (strictness == Strictness::strict) {
    if (!sorted.empty()) throw ConfigError(std::move(sorted));
    return {};
  }
  std::vector<std::string> texts;
  for (const Issue& issue : sorted) texts.push_back(issue.text());
  return texts;
}

std::optional<toml::table> parseToml(std::string_view text, std::string_view fileName,
                                     ConfigReport& report) {
  try {
    return toml::parse(text, fileName);
  } catch (const toml::parse_error& e) {
    report.add({.file = std::string(fileName),
                .line = lineOf(e.source()),
                .message = std::string(e.description())});
    return std::nullopt;
  }
}

std::optional<toml::table> readTomlFile(const std::filesystem::path& path, bool explicitPath,
                                        ConfigReport& report) {
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  if (!exists && !explicitPath) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    report.add({.file = path.string(),
                .message = exists ? "cannot read the config file" : "no such config file"});
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parseToml(text.str(), path.string(), report);
}

TableReader::TableReader(const toml::table& root, ConfigReport& report)
    : TableReader(&root, "", "", report) {}

TableReader::TableReader(const toml::table* table, std::string path, std::string file,
                         ConfigReport& report)
    : table_(table),
      path_(std::move(path)),
      file_(table != nullptr ? fileOf(table->source(), file) : std::move(file)),
      report_(&report) {}

TableReader::TableReader(TableReader&& other) noexcept
    : table_(other.table_),
      path_(std::move(other.path_)),
      file_(std::move(other.file_)),
      report_(other.report_),
      asked_(std::move(other.asked_)) {
  other.report_ = nullptr;
}

TableReader::~TableReader() {
  if (report_ != nullptr) reportUnknown();
}

std::string TableReader::keyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const toml::node* TableReader::node(std::string_view key) {
  asked_.emplace_back(key);
  report_->noteAsked(keyPath(key));
  return table_ == nullptr ? nullptr : table_->get(key);
}

void TableReader::known(std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) asked_.emplace_back(key);
}

void TableReader::reject(std::string_view key, std::string message, const toml::node* at) {
  if (at == nullptr && table_ != nullptr) at = table_->get(key);
  if (at == nullptr) at = table_;  // a key that is missing: the line of its table
  report_->add({.file = at != nullptr ? fileOf(at->source(), file_) : file_,
                .line = at != nullptr ? lineOf(at->source()) : 0,
                .key = keyPath(key),
                .message = std::move(message)});
}

void TableReader::expected(std::string_view key, std::string_view what, const toml::node* at) {
  if (at == nullptr && table_ != nullptr) at = table_->get(key);
  std::string message = "expected " + std::string(what);
  if (at != nullptr) message += ", got " + std::string(typeName(*at));
  reject(key, std::move(message), at);
}

TableReader TableReader::section(std::string_view key) {
  const toml::node* value = node(key);
  if (value != nullptr && !value->is_table()) {
    expected(key, "a table");
    value = nullptr;
  }
  return TableReader(value == nullptr ? nullptr : value->as_table(), keyPath(key), file_, *report_);
}

TableReader TableReader::topSection(const toml::table& root, std::string_view key,
                                    ConfigReport& report) {
  TableReader top(root, report);
  TableReader section = top.section(key);
  top.report_ = nullptr;  // the top level is its owner's to check
  return section;
}

template <typename T>
bool TableReader::readValue(std::string_view key, T& out, std::string_view what) {
  const toml::node* value = node(key);
  if (value == nullptr) return false;
  const toml::value<T>* typed = value->as<T>();
  if (typed == nullptr) {
    expected(key, what);
    return false;
  }
  out = typed->get();
  return true;
}

bool TableReader::read(std::string_view key, std::string& out) {
  return readValue(key, out, "a string");
}

bool TableReader::read(std::string_view key, bool& out) {
  return readValue(key, out, "true or false");
}

bool TableReader::readNonEmpty(std::string_view key, std::filesystem::path& out) {
  std::string text;
  if (!read(key, text)) return false;
  if (text.empty()) {
    reject(key, "must not be empty");
    return false;
  }
  out = text;
  return true;
}

bool TableReader::read(std::string_view key, std::filesystem::path& out) {
  std::string text;
  if (!read(key, text)) return false;
  out = text;
  return true;
}

bool TableReader::read(std::string_view key, std::vector<std::string>& out) {
  const toml::node* value = node(key);
  if (value == nullptr) return false;
  const toml::array* array = value->as_array();
  if (array == nullptr) {
    expected(key, "an array of strings");
    return false;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    if (!element.is_string()) {
      expected(std::string(key) + "[" + std::to_string(i) + "]", "a string", &element);
      ok = false;
      continue;
    }
    values.push_back(element.as_string()->get());
  }
  if (ok) out = std::move(values);
  return ok;
}

bool TableReader::read(std::string_view key, double& out, double min, double max) {
  const toml::node* value = node(key);
  if (value == nullptr) return false;
  if (!value->is_number()) {
    expected(key, "a number");
    return false;
  }
  const double v = *value->value<double>();
  if (!(std::isfinite(v) && v >= min && v <= max)) {
    reject(key, "must be between " + formatNumber(min) + " and " + formatNumber(max) + ", got " +
                    formatNumber(v));
    return false;
  }
  out = v;
  return true;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) {
  const toml::node* value = node(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_integer()) {
    expected(key, "an integer");
    return std::nullopt;
  }
  const std::int64_t v = value->as_integer()->get();
  if (v < min || v > max) {
    reject(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                    ", got " + std::to_string(v));
    return std::nullopt;
  }
  return v;
}

void TableReader::reportUnknown() {
  if (table_ == nullptr) return;
  for (const auto& [key, value] : *table_) {
    const std::string name(key.str());
    if (std::find(asked_.begin(), asked_.end(), name) != asked_.end()) continue;
    const bool isSection = value.is_table();
    std::string message = isSection ? "unknown section" : "unknown key";
    if (auto near = nearestKey(name, asked_)) {
      message += isSection ? "; did you mean [" + keyPath(*near) + "]?"
                           : "; did you mean `" + *near + "`?";
    }
    report_->add({.file = fileOf(key.source(), file_),
                  .line = lineOf(key.source()),
                  .key = keyPath(name),
                  .message = std::move(message)});
  }
}

std::string_view typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::optional<std::string> nearestKey(std::string_view word,
                                      const std::vector<std::string>& candidates) {
  const std::size_t reach = word.size() <= 4 ? 1 : std::max<std::size_t>(2, word.size() / 3);
  std::optional<std::string> best;
  std::size_t bestDistance = reach + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}

}  // namespace octolaunch::config
