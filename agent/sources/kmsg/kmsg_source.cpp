#include "agent/sources/kmsg/kmsg_source.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "agent/parse/kernel_message.h"
#include "agent/sources/kmsg/previous_boot.h"
#include "agent/sources/state_file.h"

namespace octolaunch::sources {

namespace {

// /dev/kmsg returns one record per read(); a record is at most about 8 KiB (EINVAL if the buffer
// is smaller than the record).
constexpr std::size_t kRecordBuffer = 16384;
constexpr std::size_t kBatchMax = 256;
constexpr auto kSaveDelay = std::chrono::seconds(1);

std::optional<std::uint64_t> toU64(const std::string& text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::uint64_t monotonicUsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000 +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace

KmsgSource::KmsgSource(asio::io_context& io, EventOut& out, OomLedger& ledger, KmsgConfig config,
                       std::filesystem::path stateDir)
    : io_(io),
      out_(out),
      ledger_(ledger),
      config_(std::move(config)),
      statePath_(stateDir / "kmsg.state"),
      descriptor_(io),
      expiryTimer_(io),
      saveTimer_(io) {}

KmsgSource::~KmsgSource() = default;

bool KmsgSource::start() {
  const int fd = ::open(config_.device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == EPERM || err == EACCES) {
      degraded_.set("kmsg",
                    "cannot open " + config_.device.string() + ": " + std::strerror(err) +
                        " (reading the kernel log needs CAP_SYSLOG when kernel.dmesg_restrict = "
                        "1); kernel OOM kills are not reported from it, source off",
                    "grant CAP_SYSLOG (the packaged unit's AmbientCapabilities has it) and let "
                    "the agent read the device (DeviceAllow=/dev/kmsg r)");
      return false;
    }
    spdlog::warn("sources: kmsg: cannot open {}: {}; kernel OOM kills are not reported from it",
                 config_.device.string(), std::strerror(err));
    return false;
  }
  descriptor_.assign(fd);
  bootId_ = currentBootId();
  positionAtStart();
  drain();  // records already there (resume); epoll is edge-triggered, so read before waiting
  waitReadable();
  spdlog::info(
      "sources: kmsg: reading {}{}", config_.device.string(),
      resumeAfter_ ? fmt::format(" after seq {}", *resumeAfter_) : std::string(" from its end"));
  return true;
}

void KmsgSource::positionAtStart() {
  const auto state = readStateFile(statePath_);
  std::optional<std::uint64_t> seq;
  std::uint64_t usec = 0;
  std::string stateBoot;
  if (state) {
    if (auto it = state->find("boot_id"); it != state->end()) stateBoot = it->second;
    if (auto it = state->find("seq"); it != state->end()) seq = toU64(it->second);
    if (auto it = state->find("usec"); it != state->end()) usec = toU64(it->second).value_or(0);
  }
  const int fd = descriptor_.native_handle();
  if (!bootId_.empty() && stateBoot == bootId_ && seq) {
    // Same boot: re-read from the oldest record the kernel holds and skip what we already saw.
    ::lseek(fd, 0, SEEK_SET);
    resumeAfter_ = seq;
    lastSeq_ = seq;
    lastUsec_ = usec;
    return;
  }
  // Fresh in this boot: start after the newest record, and learn its seq by reading the ring once
  // (nothing is reported from it), so the state file holds a position from the start: a kill
  // captured but not yet in the spool when the agent stops is then read again at the next start.
  lastSeq_ = newestSeq(fd);  // leaves fd after the newest record: nothing newer is skipped
  if (!lastSeq_) ::lseek(fd, 0, SEEK_END);
  if (!stateBoot.empty() && stateBoot != bootId_ && config_.recoverPreviousBoot) {
    recoverPreviousBoot(stateBoot, usec);
  }
  dirty_ = true;  // record this boot and position now, before any record is read
  saveState();
}

std::optional<std::uint64_t> KmsgSource::newestSeq(int fd) {
  std::optional<std::uint64_t> newest;
  std::string buffer(kRecordBuffer, '\0');
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && (errno == EINTR || errno == EPIPE)) continue;
    if (n < 0 && errno != EAGAIN)
      return std::nullopt;  // position unknown: the caller seeks to the end
    if (n <= 0) break;
    auto record =
        parse::parseKmsgRecord(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    if (record && record->seq) newest = record->seq;
  }
  return newest;
}

void KmsgSource::recoverPreviousBoot(const std::string& bootId, std::uint64_t afterUsec) {
  auto recovered = recoverPreviousBootOoms(config_.journalDir, bootId, afterUsec);
  if (!recovered.error.empty()) {
    spdlog::info("sources: kmsg: previous boot {}: {}", bootId, recovered.error);
    return;
  }
  EventBatch batch;
  for (const auto& kill : recovered.kills) emit(kill, batch);
  if (out_.publish(batch)) {
    spdlog::info(
        "sources: kmsg: previous boot {}: {} kernel message(s) in the journal, {} OOM kill(s) "
        "recovered",
        bootId, recovered.entriesRead, recovered.kills.size());
  }
}

void KmsgSource::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  descriptor_.close(ignored);
  expiryTimer_.cancel();
  saveTimer_.cancel();
  if (dirty_) saveState();
}

void KmsgSource::waitReadable() {
  descriptor_.async_wait(asio::posix::descriptor::wait_read,
                         [this](const boost::system::error_code& ec) {
                           if (ec || stopped_) return;
                           drain();
                           waitReadable();
                         });
}

void KmsgSource::drain() {
  std::string buffer(kRecordBuffer, '\0');
  EventBatch batch;
  const int fd = descriptor_.native_handle();
  bool gapChecked = !resumeAfter_.has_value();
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (errno == EPIPE) {
        // The kernel overwrote records we had not read yet; the next read returns the oldest one
        // left.
        if (overwritten_++ == 0)
          spdlog::warn("sources: kmsg: records were overwritten before they were read");
        continue;
      }
      spdlog::error("sources: kmsg: read failed: {}", std::strerror(errno));
      break;
    }
    if (n == 0) break;
    ++recordsRead_;
    auto record =
        parse::parseKmsgRecord(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    if (!record) {
      ++malformed_;
      continue;
    }
    if (record->seq) {
      if (resumeAfter_ && *record->seq <= *resumeAfter_) continue;
      if (!gapChecked) {
        gapChecked = true;
        if (*record->seq > *resumeAfter_ + 1) {
          overwritten_ += *record->seq - *resumeAfter_ - 1;
          spdlog::warn(
              "sources: kmsg: {} record(s) were overwritten while the agent was not running",
              *record->seq - *resumeAfter_ - 1);
        }
      }
      lastSeq_ = record->seq;
      dirty_ = true;
    }
    if (record->monoUsec) lastUsec_ = *record->monoUsec;
    for (const auto& kill : assembler_.feed(*record)) emit(kill, batch);
    if (batch.size() >= kBatchMax) out_.publish(batch);
  }
  resumeAfter_.reset();
  out_.publish(batch);
  if (assembler_.pending()) armExpiry();
  scheduleSave();
}

void KmsgSource::emit(const parse::OomKill& kill, EventBatch& batch) {
  const std::int64_t timeNs = wallTimeOf(kill);
  parse::fillOomEvent(batch.add(timeNs).getPayload(), kill);
  if (kill.invocation()) {
    ++invocationsReported_;
    return;
  }
  ledger_.record({timeNs, kill.pid, kill.process, kill.memcg, kill.taskMemcg, kill.unit});
  ++killsReported_;
}

std::int64_t KmsgSource::wallTimeOf(const parse::OomKill& kill) const {
  const std::int64_t now = out_.clock().nowNs();
  if (kill.realtimeNs) return *kill.realtimeNs;
  if (!kill.monoUsec) return now;
  const std::uint64_t monoNow = monotonicUsec();
  if (*kill.monoUsec > monoNow) return now;
  return now - static_cast<std::int64_t>(monoNow - *kill.monoUsec) * 1000;
}

void KmsgSource::armExpiry() {
  expiryTimer_.expires_after(std::chrono::microseconds(5'500'000));
  expiryTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    EventBatch batch;
    for (const auto& kill : assembler_.expire(monotonicUsec())) emit(kill, batch);
    out_.publish(batch);
    if (assembler_.pending()) armExpiry();
  });
}

void KmsgSource::scheduleSave() {
  if (!dirty_ || saveArmed_ || stopped_) return;
  saveArmed_ = true;
  saveTimer_.expires_after(kSaveDelay);
  saveTimer_.async_wait([this](const boost::system::error_code& ec) {
    saveArmed_ = false;
    if (ec || stopped_) return;
    saveState();
  });
}

void KmsgSource::saveState() {
  if (bootId_.empty()) return;
  if (out_.holding()) {  // records behind this position are not in the spool yet: keep the old one
    scheduleSave();
    return;
  }
  StateValues values{{"boot_id", bootId_}, {"usec", std::to_string(lastUsec_)}};
  if (lastSeq_) values["seq"] = std::to_string(*lastSeq_);
  if (writeStateFile(statePath_, values)) dirty_ = false;
}

}  // namespace octolaunch::sources
