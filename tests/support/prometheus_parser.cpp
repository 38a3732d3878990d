#include "tests/support/prometheus_parser.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>

namespace octolaunch::testing {

namespace {

bool isNameStart(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
bool isNameChar(char c, bool colon) { return isNameStart(c, colon) || (c >= '0' && c <= '9'); }

class LineReader {
 public:
  LineReader(const std::string& line, int number) : line_(line), number_(number) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("line " + std::to_string(number_) + ": " + what + ": \"" + line_ +
                             "\"");
  }
  bool atEnd() const { return at_ >= line_.size(); }
  char peek() const { return atEnd() ? '\0' : line_[at_]; }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++at_;
  }
  // A metric name (colon allowed) or a label name.
  std::string name(bool colon) {
    const std::size_t start = at_;
    if (!isNameStart(peek(), colon)) fail("bad name start");
    while (!atEnd() && isNameChar(peek(), colon)) ++at_;
    return line_.substr(start, at_ - start);
  }
  std::string quoted() {
    expect('"');
    std::string out;
    while (true) {
      if (atEnd()) fail("unterminated label value");
      const char c = line_[at_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (atEnd()) fail("dangling backslash");
        const char e = line_[at_++];
        if (e == '\\') {
          out += '\\';
        } else if (e == '"') {
          out += '"';
        } else if (e == 'n') {
          out += '\n';
        } else {
          fail(std::string("bad escape \\") + e);
        }
      } else {
        out += c;
      }
    }
  }
  std::string rest() {
    std::string out = line_.substr(at_);
    at_ = line_.size();
    return out;
  }

 private:
  const std::string& line_;
  int number_;
  std::size_t at_ = 0;
};

double parseValue(const std::string& text, const LineReader& reader) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  if (text.empty() || text.find_first_of(" \t") != std::string::npos) reader.fail("bad value");
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || text == "inf" || text == "nan") reader.fail("bad value");
  return v;
}

// The family a sample belongs to: the name less a histogram's or summary's suffix when that
// family is declared.
std::string familyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto t = types.find(base);
      if (t != types.end() && (t->second == "histogram" || t->second == "summary")) return base;
    }
  }
  return name;
}

std::string seriesKey(const MetricSeries& s) {
  std::string key = s.name + "{";
  for (const auto& [k, v] : s.labels) key += k + "=\"" + v + "\",";
  return key + "}";
}

void checkHistograms(const ParsedMetrics& parsed) {
  for (const auto& [family, type] : parsed.types) {
    if (type != "histogram") continue;
    // Buckets grouped by their labels other than le, in the text's order.
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;
    for (const MetricSeries& s : parsed.series) {
      if (s.name != family + "_bucket") continue;
      auto le = s.labels.find("le");
      if (le == s.labels.end()) throw std::runtime_error(family + "_bucket without le");
      MetricSeries rest = s;
      rest.labels.erase("le");
      rest.name = family;
      buckets[seriesKey(rest)].emplace_back(parseValue(le->second, LineReader(le->second, 0)),
                                            s.value);
    }
    for (const auto& [key, list] : buckets) {
      for (std::size_t i = 1; i < list.size(); ++i) {
        if (list[i].first <= list[i - 1].first || list[i].second < list[i - 1].second)
          throw std::runtime_error(key + ": buckets not increasing or not cumulative");
      }
      if (list.empty() || !std::isinf(list.back().first))
        throw std::runtime_error(key + ": no +Inf bucket");
      MetricSeries count;
      count.name = family + "_count";
      bool found = false;
      for (const MetricSeries& s : parsed.series) {
        MetricSeries base = s;
        base.name = family;
        if (s.name == count.name && seriesKey(base) == key) {
          found = true;
          if (s.value != list.back().second)
            throw std::runtime_error(key + ": +Inf bucket differs from _count");
        }
      }
      if (!found) throw std::runtime_error(key + ": no _count");
    }
  }
}

}  // namespace

std::optional<double> ParsedMetrics::value(const std::string& name,
                                           const std::map<std::string, std::string>& labels) const {
  for (const MetricSeries& s : series) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

std::vector<MetricSeries> ParsedMetrics::all(const std::string& name) const {
  std::vector<MetricSeries> out;
  for (const MetricSeries& s : series) {
    if (s.name == name) out.push_back(s);
  }
  return out;
}

ParsedMetrics parsePrometheusText(const std::string& text) {
  if (!text.empty() && text.back() != '\n')
    throw std::runtime_error("the text does not end in \\n");
  ParsedMetrics parsed;
  std::set<std::string> helped;
  std::set<std::string> seenSeries;
  std::set<std::string> closedFamilies;  // families whose samples have ended
  std::string currentFamily;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    LineReader r(line, number);
    if (line.empty()) r.fail("empty line");
    if (line[0] == '#') {
      const bool isHelp = line.rfind("# HELP ", 0) == 0;
      if (!isHelp && line.rfind("# TYPE ", 0) != 0) r.fail("a comment other than HELP or TYPE");
      for (std::size_t i = 0; i < 7; ++i) r.expect(line[i]);
      const std::string name = r.name(true);
      if (isHelp) {
        if (!helped.insert(name).second) r.fail("second HELP for " + name);
        if (!r.atEnd()) r.expect(' ');
        continue;
      }
      r.expect(' ');
      const std::string type = r.rest();
      if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
          type != "untyped")
        r.fail("unknown type");
      if (parsed.types.count(name) > 0) r.fail("second TYPE for " + name);
      if (closedFamilies.count(name) > 0 || currentFamily == name)
        r.fail("TYPE after samples of " + name);
      if (type == "counter" && (name.size() < 6 || name.substr(name.size() - 6) != "_total"))
        r.fail("counter not named *_total");
      parsed.types[name] = type;
      continue;
    }
    MetricSeries s;
    s.name = r.name(true);
    if (r.peek() == '{') {
      r.expect('{');
      while (r.peek() != '}') {
        const std::string label = r.name(false);
        r.expect('=');
        const std::string value = r.quoted();
        if (!s.labels.emplace(label, value).second) r.fail("label " + label + " twice");
        if (r.peek() == ',') {
          r.expect(',');
          if (r.peek() == '}') r.fail("trailing comma");
        } else if (r.peek() != '}') {
          r.fail("expected ',' or '}'");
        }
      }
      r.expect('}');
    }
    r.expect(' ');
    s.value = parseValue(r.rest(), r);
    const std::string family = familyOf(s.name, parsed.types);
    if (parsed.types.count(family) == 0) r.fail("sample without a TYPE for " + family);
    if (family != currentFamily) {
      if (closedFamilies.count(family) > 0) r.fail("samples of " + family + " are not together");
      if (!currentFamily.empty()) closedFamilies.insert(currentFamily);
      currentFamily = family;
    }
    if (!seenSeries.insert(seriesKey(s)).second) r.fail("series twice");
    parsed.series.push_back(std::move(s));
  }
  checkHistograms(parsed);
  return parsed;
}

}  // namespace octolaunch::testing
