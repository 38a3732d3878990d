#include "agent/parse/psi.h"

#include <charconv>
#include <cmath>

#include "agent/parse/text_util.h"

namespace octolaunch::parse {

namespace {

std::optional<double> parsePercent(std::string_view s) {
  // The kernel prints "%lu.%02lu": digits, '.', digits. Accept plain digits too.
  if (s.empty() || s.size() > 24) return std::nullopt;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.')) return std::nullopt;
  }
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<PsiSample> parseLine(std::string_view line, PsiResource resource) {
  line = trim(line);
  auto sp = line.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view kind = line.substr(0, sp);
  if (kind != "some" && kind != "full") return std::nullopt;
  PsiSample s;
  s.resource = resource;
  s.line = std::string(kind);
  bool have10 = false, have60 = false, have300 = false, haveTotal = false;
  std::string_view rest = line.substr(sp + 1);
  while (!rest.empty()) {
    auto next = rest.find(' ');
    std::string_view field = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    if (field.empty()) continue;
    auto eq = field.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "total") {
      auto v = parseU64(value);
      if (!v) return std::nullopt;
      s.totalUs = *v;
      haveTotal = true;
      continue;
    }
    auto v = parsePercent(value);
    if (!v) return std::nullopt;
    if (key == "avg10") {
      s.avg10 = *v;
      have10 = true;
    } else if (key == "avg60") {
      s.avg60 = *v;
      have60 = true;
    } else if (key == "avg300") {
      s.avg300 = *v;
      have300 = true;
    }  // unknown keys from a future kernel are ignored
  }
  if (!(have10 && have60 && have300 && haveTotal)) return std::nullopt;
  return s;
}

}  // namespace

PsiParse parsePsi(std::string_view text, PsiResource resource) {
  PsiParse out;
  for (auto line : splitLines(text)) {
    if (trim(line).empty()) continue;
    if (auto s = parseLine(line, resource)) {
      out.samples.push_back(std::move(*s));
    } else {
      ++out.skipped;
    }
  }
  return out;
}

PsiResource psiResourceFromPath(std::string_view path) {
  auto slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (endsWith(name, ".pressure")) name.remove_suffix(9);
  if (name == "memory") return PsiResource::memory;
  if (name == "cpu") return PsiResource::cpu;
  if (name == "io") return PsiResource::io;
  return PsiResource::unknown;
}

const char* psiResourceName(PsiResource resource) {
  switch (resource) {
    case PsiResource::memory:
      return "memory";
    case PsiResource::cpu:
      return "cpu";
    case PsiResource::io:
      return "io";
    case PsiResource::unknown:
      break;
  }
  return "unknown";
}

}  // namespace octolaunch::parse
