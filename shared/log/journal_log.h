// Logging to stderr for the daemons, readable by journald when systemd runs them.
//
// Under systemd, stderr is usually a stream to journald, which takes a "<N>" prefix on each line
// as that line's priority (sd-daemon(3): SD_ERR "<3>", SD_WARNING "<4>", SD_INFO "<6>", SD_DEBUG
// "<7>") and stamps the time itself; `journalctl -p warning` then shows only what deserves it.
// stderr is that stream when JOURNAL_STREAM ("DEV:INO", set by systemd) names the very file open
// on descriptor 2: a child whose stderr was redirected elsewhere inherits the variable but not the
// stream, and gets plain text.
//
// Threads: makeStderrLogger() from main() before other threads log; the loggers it makes may be
// used from any thread (spdlog's _mt sinks).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace octolaunch::log {

// The sd-daemon(3) priority of a level: critical 2, error 3, warning 4, info 6, debug and trace 7.
int journalPriority(spdlog::level::level_enum level);

// True when journalStream (JOURNAL_STREAM's value, may be null) is "DEV:INO" in decimal and
// names the file open on fd. False for a malformed value or a descriptor that cannot be stat'ed.
bool isJournalStream(const char* journalStream, int fd);

// The formatter for a stderr line: "<N>level: message" for the journal, else
// "2026-12-07T01:02:03.456 level: message".
std::unique_ptr<spdlog::formatter> stderrFormatter(bool journal);

// A logger called name that writes to stderr, formatted for the journal when stderr is
// JOURNAL_STREAM's stream. The logger is not registered with spdlog: the caller installs it
// (spdlog::set_default_logger) or passes it on.
std::shared_ptr<spdlog::logger> makeStderrLogger(const std::string& name);

}  // namespace octolaunch::log
