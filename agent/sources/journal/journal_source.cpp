#include "agent/sources/journal/journal_source.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-journal.h>

#include <cstring>

#include "agent/parse/failed_units.h"
#include "agent/parse/journal_entry.h"
#include "agent/sources/state_file.h"

namespace octolaunch::sources {

namespace {

constexpr std::size_t kDataThreshold = 64 * 1024;
constexpr std::size_t kBatchMax = 256;

parse::JournalEntry currentEntry(sd_journal* journal) {
  parse::JournalEntry entry;
  const void* data = nullptr;
  size_t length = 0;
  sd_journal_restart_data(journal);
  while (sd_journal_enumerate_data(journal, &data, &length) > 0) {
    std::string_view field(static_cast<const char*>(data), length);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    entry.fields.try_emplace(std::string(field.substr(0, eq)), field.substr(eq + 1));
  }
  std::uint64_t realtime = 0;
  if (sd_journal_get_realtime_usec(journal, &realtime) >= 0) {
    entry.fields["__REALTIME_TIMESTAMP"] = std::to_string(realtime);
  }
  return entry;
}

parse::UnitFailureAssembler::Options assemblerOptions(const JournalConfig& config) {
  parse::UnitFailureAssembler::Options options;
  options.lastLines = config.lastLines;
  options.oomJoinUsec = static_cast<std::int64_t>(config.oomJoinWindowMs) * 1000;
  options.kernelOomKills = false;  // the kmsg source reports the kernel's kills
  return options;
}

}  // namespace

JournalSource::JournalSource(asio::io_context& io, EventOut& out, OomLedger& ledger,
                             JournalConfig config, std::filesystem::path stateDir,
                             LineRedactor redact)
    : out_(out),
      ledger_(ledger),
      config_(std::move(config)),
      statePath_(stateDir / "journal.state"),
      redact_(std::move(redact)),
      descriptor_(io),
      timeoutTimer_(io),
      saveTimer_(io),
      expiryTimer_(io),
      units_(assemblerOptions(config_)) {}

JournalSource::~JournalSource() {
  if (descriptor_.is_open()) descriptor_.release();  // sd-journal owns the fd
  if (journal_ != nullptr) sd_journal_close(journal_);
}

int JournalSource::open(sd_journal** journal) const {
  if (config_.directory.empty())
    return sd_journal_open(journal, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
  return sd_journal_open_directory(journal, config_.directory.c_str(), 0);
}

// sd-journal skips the files it may not read, and opens the rest without an error: a user outside
// the systemd-journal group then sees no system journal at all. Said (and kept as the source's
// degraded state) when none of the journal's files could be opened although some are there.
void JournalSource::noteUnreadableFiles() {
  if (sd_journal_has_runtime_files(journal_) > 0 || sd_journal_has_persistent_files(journal_) > 0)
    return;
  const std::vector<std::filesystem::path> dirs =
      config_.directory.empty()
          ? std::vector<std::filesystem::path>{"/run/log/journal", "/var/log/journal"}
          : std::vector<std::filesystem::path>{config_.directory};
  auto unreadable = [&](const std::filesystem::path& what) {
    degraded_.set("journal",
                  "cannot read the " + journalName_ + " journal (" + what.string() +
                      ": permission denied): the agent's user is not in the journal's group; "
                      "unit failures are not reported",
                  "add the agent's user to group systemd-journal (the packaged unit has "
                  "SupplementaryGroups=systemd-journal)");
  };
  for (const auto& dir : dirs) {
    std::error_code ec;
    auto it = std::filesystem::recursive_directory_iterator(dir, ec);
    for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->path().extension() == ".journal") return unreadable(it->path());
    }
    if (ec == std::errc::permission_denied) return unreadable(dir);
  }
}

bool JournalSource::start() {
  if (config_.directory.empty()) {
    if (!std::filesystem::exists("/run/systemd/journal")) {
      spdlog::info(
          "sources: journal: no systemd-journald on this host (/run/systemd/journal); source off");
      return false;
    }
    journalName_ = "system";
  } else {
    journalName_ = config_.directory.string();
  }
  const int r = open(&journal_);
  if (r < 0) {
    spdlog::warn("sources: journal: cannot open the {} journal: {}; source off", journalName_,
                 std::strerror(-r));
    journal_ = nullptr;
    return false;
  }
  noteUnreadableFiles();
  sd_journal_set_data_threshold(journal_, kDataThreshold);
  const int fd = sd_journal_get_fd(journal_);
  if (fd < 0) {
    spdlog::warn("sources: journal: sd_journal_get_fd: {}; source off", std::strerror(-fd));
    return false;
  }
  descriptor_.assign(fd);
  positionAtStart();
  if (cursor_.empty()) reportFailedAtStart();
  drain();
  waitReadable();
  armTimeout();
  spdlog::info("sources: journal: following the {} journal{}", journalName_,
               cursor_.empty() ? " from its end" : " after the saved cursor");
  return true;
}

void JournalSource::positionAtStart() {
  const auto state = readStateFile(statePath_);
  if (state && state->contains("journal") && state->at("journal") == journalName_ &&
      state->contains("cursor")) {
    const std::string& cursor = state->at("cursor");
    if (sd_journal_seek_cursor(journal_, cursor.c_str()) >= 0 && sd_journal_next(journal_) > 0) {
      cursor_ = cursor;
      // The cursor's own entry was handled before; if it is gone, we stand on the next one.
      if (sd_journal_test_cursor(journal_, cursor.c_str()) <= 0) sd_journal_previous(journal_);
      return;
    }
  }
  sd_journal_seek_tail(journal_);
  sd_journal_previous(journal_);
}

void JournalSource::reportFailedAtStart() {
  // The newest boot's entries from systemd itself (PID 1), up to the newest entry now: what drain()
  // reads from here on is after it.
  sd_journal* scan = nullptr;
  if (open(&scan) < 0) return;
  std::uint64_t endUsec = 0;
  sd_id128_t boot{};
  std::uint64_t monoUsec = 0;
  sd_journal_seek_tail(scan);
  if (sd_journal_previous(scan) <= 0 || sd_journal_get_realtime_usec(scan, &endUsec) < 0 ||
      sd_journal_get_monotonic_usec(scan, &monoUsec, &boot) < 0) {
    sd_journal_close(scan);
    return;
  }
  char bootText[SD_ID128_STRING_MAX];
  const std::string bootMatch = std::string("_BOOT_ID=") + sd_id128_to_string(boot, bootText);
  sd_journal_add_match(scan, bootMatch.c_str(), 0);
  sd_journal_add_match(scan, "_PID=1", 0);
  sd_journal_set_data_threshold(scan, kDataThreshold);
  sd_journal_seek_head(scan);
  parse::FailedUnits failed(assemblerOptions(config_));
  std::uint64_t entries = 0;
  while (sd_journal_next(scan) > 0) {
    std::uint64_t usec = 0;
    if (sd_journal_get_realtime_usec(scan, &usec) >= 0 && usec > endUsec) break;
    failed.feed(currentEntry(scan));
    ++entries;
  }
  sd_journal_close(scan);
  parse::UnitFailureAssembler::Output out;
  out.failures = failed.finish();
  spdlog::info(
      "sources: journal: {} unit(s) failed at start ({} systemd entries of this boot read)",
      out.failures.size(), entries);
  EventBatch batch;
  emit(out, batch);
  out_.publish(batch);
}

void JournalSource::stop() {
  stopped_ = true;
  if (descriptor_.is_open()) {
    descriptor_.cancel();
    descriptor_.release();
  }
  timeoutTimer_.cancel();
  saveTimer_.cancel();
  expiryTimer_.cancel();
  if (!cursor_.empty()) saveCursor();
}

void JournalSource::waitReadable() {
  descriptor_.async_wait(asio::posix::descriptor::wait_read,
                         [this](const boost::system::error_code& ec) {
                           if (ec || stopped_) return;
                           sd_journal_process(journal_);
                           drain();
                           waitReadable();
                         });
}

void JournalSource::armTimeout() {
  // sd-journal asks for periodic wake-ups only where inotify cannot see changes (network fs).
  std::uint64_t usec = 0;
  if (sd_journal_get_timeout(journal_, &usec) < 0 || usec == static_cast<std::uint64_t>(-1)) return;
  timeoutTimer_.expires_after(std::chrono::seconds(1));
  timeoutTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    sd_journal_process(journal_);
    drain();
    armTimeout();
  });
}

void JournalSource::drain() {
  EventBatch batch;
  bool advanced = false;
  while (sd_journal_next(journal_) > 0) {
    ++entriesRead_;
    advanced = true;
    const auto entry = currentEntry(journal_);
    if (entry.value("_TRANSPORT") == "kernel") {
      parse::KernelMessage message;
      message.text = std::string(entry.value("MESSAGE"));
      message.realtimeNs = entry.realtimeUsec() * 1000;
      for (const auto& kill : kernel_.feed(message)) {
        if (!kill.invocation()) {
          ledger_.record({*message.realtimeNs, kill.pid, kill.process, kill.memcg, kill.taskMemcg,
                          kill.unit, /*reported=*/false});
        }
      }
    }
    auto out = units_.feed(entry);
    emit(out, batch);
    if (batch.size() >= kBatchMax) out_.publish(batch);
  }
  out_.publish(batch);
  if (advanced) armExpiry();
  if (advanced) {
    char* cursor = nullptr;
    if (sd_journal_get_cursor(journal_, &cursor) >= 0) {
      cursor_ = cursor;
      free(cursor);
    }
    scheduleCursorSave();
  }
}

void JournalSource::emit(parse::UnitFailureAssembler::Output& out, EventBatch& batch) {
  const std::int64_t windowNs = static_cast<std::int64_t>(config_.oomJoinWindowMs) * 1'000'000;
  for (auto& failure : out.failures) {
    const std::int64_t timeNs =
        failure.realtimeUsec > 0 ? failure.realtimeUsec * 1000 : out_.clock().nowNs();
    if (!failure.oomKilled)
      failure.oomKilled = ledger_.killedInUnit(failure.unit, timeNs, windowNs);
    if (redact_) {
      for (auto& line : failure.lastLines) redact_(line);
      redact_(failure.message);
    }
    parse::fillUnitFailed(batch.add(timeNs).getPayload().initUnitFailed(), failure);
  }
  for (const auto& kill :
       out.oomKills) {  // systemd-oomd, earlyoom (the kernel's own kills come from kmsg)
    const std::int64_t timeNs = kill.realtimeNs.value_or(out_.clock().nowNs());
    parse::fillOomEvent(batch.add(timeNs).getPayload(), kill);
  }
}

void JournalSource::armExpiry() {
  // The assembler holds a failure for a moment after "Failed with result" so that what systemd
  // logs next (restart counter, start limit, core dump) joins it; release it when nothing follows.
  expiryTimer_.expires_after(std::chrono::milliseconds(1100));
  expiryTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    auto out = units_.expire(out_.clock().nowNs() / 1000);
    EventBatch batch;
    emit(out, batch);
    out_.publish(batch);
  });
}

void JournalSource::scheduleCursorSave() {
  if (saveArmed_ || stopped_) return;
  saveArmed_ = true;
  saveTimer_.expires_after(std::chrono::seconds(1));
  saveTimer_.async_wait([this](const boost::system::error_code& ec) {
    saveArmed_ = false;
    if (ec || stopped_) return;
    saveCursor();
  });
}

void JournalSource::saveCursor() {
  if (out_.holding()) {  // entries behind this cursor are not in the spool yet: keep the old one
    scheduleCursorSave();
    return;
  }
  writeStateFile(statePath_, {{"journal", journalName_}, {"cursor", cursor_}});
}

}  // namespace octolaunch::sources
