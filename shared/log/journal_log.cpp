#include "shared/log/journal_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace octolaunch::log {

namespace {

// The "%*" flag: "<N>" with the line's journald priority.
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const char prefix[] = {'<', static_cast<char>('0' + journalPriority(msg.level)), '>'};
    dest.append(prefix, prefix + sizeof prefix);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityFlag>();
  }
};

// Reads text as one decimal number; false when it is anything else.
bool parseWhole(std::string_view text, unsigned long long& value) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

int journalPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return 2;  // SD_CRIT
    case spdlog::level::err:
      return 3;  // SD_ERR
    case spdlog::level::warn:
      return 4;  // SD_WARNING
    case spdlog::level::info:
      return 6;  // SD_INFO
    default:
      return 7;  // SD_DEBUG: debug, trace
  }
}

bool isJournalStream(const char* journalStream, int fd) {
  if (journalStream == nullptr) return false;
  const std::string_view value(journalStream);
  const std::size_t colon = value.find(':');
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (colon == std::string_view::npos || !parseWhole(value.substr(0, colon), dev) ||
      !parseWhole(value.substr(colon + 1), ino)) {
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

std::unique_ptr<spdlog::formatter> stderrFormatter(bool journal) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (journal) {
    formatter->add_flag<PriorityFlag>('*').set_pattern("%*%l: %v");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l: %v");
  }
  return formatter;
}

std::shared_ptr<spdlog::logger> makeStderrLogger(const std::string& name) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(
      stderrFormatter(isJournalStream(std::getenv("JOURNAL_STREAM"), STDERR_FILENO)));
  return std::make_shared<spdlog::logger>(name, std::move(sink));
}

}  // namespace octolaunch::log
