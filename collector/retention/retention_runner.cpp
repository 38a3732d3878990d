#include "collector/retention/retention_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace octolaunch::retention {

namespace {
std::string mib(std::uint64_t bytes) { return std::to_string(bytes / (1 << 20)) + " MiB"; }
}  // namespace

RetentionRunner::RetentionRunner(Parts parts, collector::RetentionSettings settings)
    : parts_(parts), settings_(settings), thread_([this]() { loop(); }) {}

RetentionRunner::~RetentionRunner() {
  requestStop();
  if (thread_.joinable()) thread_.join();
}

void RetentionRunner::requestStop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
}

void RetentionRunner::loop() {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::seconds(settings_.intervalSeconds);
  // Between passes the store's size is looked at every kSizeCheck: a burst that takes it past the
  // cap starts a pass then, not up to interval_seconds later.
  constexpr auto kSizeCheck = std::chrono::seconds(30);
  Clock::time_point lastPass = Clock::now();
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, std::min<Clock::duration>(interval, kSizeCheck),
                         [this]() { return stop_.load(); })) {
        break;
      }
    }
    bool due = Clock::now() - lastPass >= interval;
    if (!due) {
      try {
        due = currentSpaceUse(parts_.env).usedBytes() > settings_.sizeCap(parts_.mapSize);
      } catch (const std::exception& e) {
        spdlog::error("retention: cannot read the store's size: {}", e.what());
      }
    }
    if (!due) continue;
    runOnePass();
    lastPass = Clock::now();
  }
  if (parts_.onExit) parts_.onExit();
}

void RetentionRunner::runOnePass() {
  const auto started = std::chrono::steady_clock::now();
  try {
    const std::int64_t nowNs = parts_.clock.nowNs();
    ShieldSummary shieldSummary;
    const EvidenceShield shield = failedReleaseEvidence(
        parts_.service, parts_.releases,
        nowNs - static_cast<std::int64_t>(settings_.failedReleaseDays) * kNanosecondsPerDay,
        shieldSummary);
    const PassReport report = runRetentionPass({.events = parts_.events,
                                                .writer = parts_.writer,
                                                .env = parts_.env,
                                                .settings = settings_,
                                                .mapSize = parts_.mapSize,
                                                .shield = shield,
                                                .nowNs = nowNs,
                                                .stop = &stop_});
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    passes_ += 1;
    deletedByAge_ += report.deletedByAge;
    deletedBySize_ += report.deletedBySize;
    keptEvidence_ = report.keptEvidence;
    lastPassMs_ = static_cast<std::uint64_t>(ms);
    capUnmet_ = report.capUnmet ? 1 : 0;
    const bool removed = report.deletedByAge + report.deletedBySize > 0;
    auto level = removed ? spdlog::level::info : spdlog::level::debug;
    spdlog::log(level,
                "retention: removed {} events older than {} days and {} above the size cap ({} "
                "records) in {} steps, kept {} old events as the evidence of {} failed "
                "releases; store used {} -> {} (extent {}, cap {}), {} ms{}{}",
                report.deletedByAge, settings_.maxAgeDays, report.deletedBySize,
                report.recordsDeleted, report.steps, report.keptEvidence,
                shieldSummary.failedReleases, mib(report.before.usedBytes()),
                mib(report.after.usedBytes()), mib(report.after.extentBytes),
                mib(report.sizeCapBytes), ms, report.stopped ? " (stopped early)" : "",
                report.stepsShrunk > 0
                    ? "; the map was full: " + std::to_string(report.stepsShrunk) +
                          " steps retried with fewer events"
                    : std::string());
    if (report.capUnmet) {
      spdlog::warn(
          "retention: the store uses {} with only failed releases' evidence left to remove, "
          "above the cap of {}: lower [retention] failed_release_days, or raise [store] "
          "map_size and [retention] max_size",
          mib(report.after.usedBytes()), mib(report.sizeCapBytes));
    }
  } catch (const std::exception& e) {
    failures_ += 1;
    spdlog::error("retention pass failed (the next one starts from the oldest event again): {}",
                  e.what());
  }
}

std::string RetentionRunner::metricsText() const {
  auto line = [](const char* name, const char* type, const char* help, std::uint64_t value) {
    return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  return line("octolaunch_retention_passes_total", "counter", "Retention passes completed.",
              passes_) +
         line("octolaunch_retention_failures_total", "counter",
              "Retention passes that failed (logged).", failures_) +
         line("octolaunch_retention_deleted_by_age_total", "counter",
              "Events removed for being older than [retention] max_age_days.", deletedByAge_) +
         line("octolaunch_retention_deleted_by_size_total", "counter",
              "Events removed to bring the store below [retention] max_size.", deletedBySize_) +
         line("octolaunch_retention_kept_evidence_events", "gauge",
              "Events past max_age_days the last pass kept as a failed release's evidence.",
              keptEvidence_) +
         line("octolaunch_retention_last_pass_milliseconds", "gauge",
              "Wall time of the last retention pass.", lastPassMs_) +
         line("octolaunch_retention_cap_unmet", "gauge",
              "1 when the last pass left the store above its size cap (only evidence left).",
              capUnmet_);
}

}  // namespace octolaunch::retention
