#include "collector/retention/retention_pass.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

namespace octolaunch::retention {

namespace {

// Runs expireOldest steps before beforeNs until none is left, `enough` says so, or stop is set.
// Returns false when stopped. Events kept as evidence are counted by the age phase only (the
// size phase sees the same ones again).
// Deleting needs pages too (LMDB copies each page it changes): on a full map a step of
// batch_events may not fit while a smaller one does, using the few pages earlier commits freed.
// A step refused as full is retried with half as many events, down to one; each step that fits
// doubles the size again, up to batch_events. A single event that does not fit is the error.
bool expireInSteps(const PassInputs& in, std::int64_t beforeNs, PassReport& report,
                   std::uint64_t& deleted, bool countKept, const std::function<bool()>& enough) {
  std::optional<std::string> resumeAfter = std::string();
  const EventKeep keep = [&in](schema::Event::Reader e) { return in.shield.covers(e); };
  const std::size_t fullSize = in.settings.batchEvents;
  std::size_t size = fullSize;
  while (resumeAfter) {
    if (in.stop != nullptr && in.stop->load()) return false;
    if (enough && enough()) return true;
    ExpireStep step;
    try {
      in.writer.run([&]() { step = in.events.expireOldest(beforeNs, *resumeAfter, size, keep); });
    } catch (const StoreError& e) {
      if (e.kind() != StoreError::Kind::full || size == 1) throw;
      size /= 2;
      ++report.stepsShrunk;
      continue;
    }
    size = std::min(fullSize, size * 2);
    ++report.steps;
    report.examined += step.examined;
    report.recordsDeleted += step.records;
    deleted += step.deleted;
    if (countKept) report.keptEvidence += step.kept;
    resumeAfter = std::move(step.resumeAfter);
  }
  return true;
}

}  // namespace

lmdb::SpaceUse currentSpaceUse(lmdb::Env& env) {
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::read);
  return lmdb::spaceUse(txn);
}

PassReport runRetentionPass(const PassInputs& in) {
  PassReport report;
  report.before = currentSpaceUse(in.env);
  report.sizeCapBytes = in.settings.sizeCap(in.mapSize);
  const std::int64_t ageNs = static_cast<std::int64_t>(in.settings.maxAgeDays) * kNanosecondsPerDay;
  if (!expireInSteps(in, in.nowNs - ageNs, report, report.deletedByAge, true, {})) {
    report.stopped = true;
  }
  if (!report.stopped && currentSpaceUse(in.env).usedBytes() > report.sizeCapBytes) {
    const std::uint64_t target = report.sizeCapBytes / 20 * 19;
    auto belowTarget = [&in, target]() { return currentSpaceUse(in.env).usedBytes() <= target; };
    if (!expireInSteps(in, std::numeric_limits<std::int64_t>::max(), report, report.deletedBySize,
                       false, belowTarget)) {
      report.stopped = true;
    } else if (!belowTarget()) {
      report.capUnmet = true;
    }
  }
  report.after = currentSpaceUse(in.env);
  return report;
}

}  // namespace octolaunch::retention
