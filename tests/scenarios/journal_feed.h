// Writes systemd journal entries into a directory the agent's journal source reads, without a
// journald: entries captured from a real systemd 252 (tests/fixtures/journal) are replayed with
// the current time and the unit renamed, through systemd-journal-remote, one journal file per
// replay (the journal source notices new files in its directory).
#pragma once

#include <filesystem>
#include <string>

namespace octolaunch::testing {

class JournalFeed final {
 public:
  // Creates dir and its first journal file.
  explicit JournalFeed(std::filesystem::path dir);

  const std::filesystem::path& dir() const { return dir_; }
  // Replays the captured crash loop (five "Main process exited, status=1/FAILURE" / "Failed with
  // result 'exit-code'" rounds ending in "Failed to start") as unit. Throws on failure.
  void crashLoop(const std::string& unit);
  // One failure round only (started, its output, exited, "Failed with result"): a unit that
  // flaps.
  void failOnce(const std::string& unit);

 private:
  void replay(const std::string& unit, std::size_t maxEntries);
  std::filesystem::path dir_;
  int files_ = 0;
};

// Why JournalFeed cannot run here ("" when it can).
std::string journalFeedUnavailable();

}  // namespace octolaunch::testing
