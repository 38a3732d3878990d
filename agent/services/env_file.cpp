#include "agent/services/env_file.h"

#include <cctype>

namespace octolaunch::services {

namespace {

bool isShellName(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string unquote(std::string_view value) {
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
    return std::string(value.substr(1, value.size() - 2));
  }
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    std::string out;
    value = value.substr(1, value.size() - 2);
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '\\' && i + 1 < value.size() &&
          (value[i + 1] == '"' || value[i + 1] == '\\' || value[i + 1] == '$' ||
           value[i + 1] == '`')) {
        ++i;
      }
      out.push_back(value[i]);
    }
    return out;
  }
  return std::string(value);
}

}  // namespace

std::map<std::string, std::string> parseEnvFile(std::string_view text) {
  std::map<std::string, std::string> out;
  std::string logical;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() + 1 : end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\\') {  // continued on the next line
      logical.append(line.substr(0, line.size() - 1));
      continue;
    }
    logical.append(line);
    std::string_view entry = trim(logical);
    if (!entry.empty() && entry.front() != '#' && entry.front() != ';') {
      if (entry.starts_with("export ")) entry = trim(entry.substr(7));
      const auto eq = entry.find('=');
      if (eq != std::string_view::npos) {
        const std::string_view key = trim(entry.substr(0, eq));
        if (isShellName(key)) out[std::string(key)] = unquote(trim(entry.substr(eq + 1)));
      }
    }
    logical.clear();
  }
  return out;
}

}  // namespace octolaunch::services
