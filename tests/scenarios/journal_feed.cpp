#include "tests/scenarios/journal_feed.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tests/scenarios/replace_all.h"
#include "tests/support/process.h"

namespace octolaunch::testing {

namespace {

using namespace std::chrono_literals;

constexpr const char* kJournalRemote = "/lib/systemd/systemd-journal-remote";
constexpr const char* kCapturedUnit = "ol-loop.service";

// The captured entries of ol-loop.service, in journal order, one export-format block each.
const std::vector<std::string>& capturedCrashLoop() {
  static const std::vector<std::string> entries = [] {
    std::ifstream in(std::string(OCTOLAUNCH_FIXTURES_DIR) +
                     "/journal/systemd-252-unit-failures.export");
    std::stringstream text;
    text << in.rdbuf();
    std::vector<std::string> out;
    std::string all = text.str();
    std::size_t pos = 0;
    while (pos < all.size()) {
      std::size_t end = all.find("\n\n", pos);
      std::string block = all.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      pos = end == std::string::npos ? all.size() : end + 2;
      // The manager's lines about the unit (UNIT=) and the unit's own output (_SYSTEMD_UNIT=).
      if ((block + "\n").find("UNIT=" + std::string(kCapturedUnit) + "\n") != std::string::npos)
        out.push_back(block);
    }
    return out;
  }();
  return entries;
}

// The block with its cursor dropped (journal-remote assigns its own) and its realtime stamp set.
std::string restamped(const std::string& block, long long realtimeUs) {
  std::istringstream lines(block);
  std::string line, out;
  while (std::getline(lines, line)) {
    if (line.rfind("__CURSOR=", 0) == 0) continue;
    if (line.rfind("__REALTIME_TIMESTAMP=", 0) == 0)
      line = "__REALTIME_TIMESTAMP=" + std::to_string(realtimeUs);
    out += line + "\n";
  }
  return out + "\n";
}

}  // namespace

std::string journalFeedUnavailable() {
  if (!std::filesystem::exists(kJournalRemote))
    return std::string("needs ") + kJournalRemote + " (Debian package systemd-journal-remote)";
  if (capturedCrashLoop().empty()) return "the captured crash loop fixture is missing";
  return "";
}

JournalFeed::JournalFeed(std::filesystem::path dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  // A journal reader started on an empty directory does not notice files added later (as a
  // host's journal directory is never empty): begin with the loop's first entry, "Started".
  replay("batch-worker.service", 1);
}

void JournalFeed::crashLoop(const std::string& unit) { replay(unit, capturedCrashLoop().size()); }

void JournalFeed::failOnce(const std::string& unit) {
  // The captured loop opens with "Started", two lines of the unit's output, "Main process exited"
  // and "Failed with result".
  replay(unit, 5);
}

void JournalFeed::replay(const std::string& unit, std::size_t maxEntries) {
  const auto& entries = capturedCrashLoop();
  if (entries.empty()) throw std::runtime_error(journalFeedUnavailable());
  long long nowUs = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  std::string exportText;
  for (std::size_t i = 0; i < entries.size() && i < maxEntries; ++i) {
    // A millisecond apart, in the captured order.
    exportText += restamped(replaceAll(entries[i], kCapturedUnit, unit),
                            nowUs + static_cast<long long>(i) * 1000);
  }
  std::filesystem::path input = dir_ / ("feed-" + std::to_string(files_) + ".export");
  std::filesystem::path output = dir_ / ("feed-" + std::to_string(files_) + ".journal");
  ++files_;
  std::ofstream(input) << exportText;
  RunResult r = run({kJournalRemote, "--output=" + output.string(), input.string()}, 30s);
  std::filesystem::remove(input);
  if (r.exitCode != 0)
    throw std::runtime_error("systemd-journal-remote failed (" + std::to_string(r.exitCode) +
                             "): " + r.err);
}

}  // namespace octolaunch::testing
