#include "collector/store/store_check_command.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "collector/store/store_check.h"
#include "collector/store/store_env.h"

namespace octolaunch {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Says how far a walk got, at most once a second.
std::function<void(const StoreCheckProgress&)> progressEverySecond(const std::filesystem::path& dir,
                                                                   const char* doing) {
  auto lastSaid = std::make_shared<SteadyClock::time_point>(SteadyClock::now());
  return [dir, doing, lastSaid](const StoreCheckProgress& p) {
    if (SteadyClock::now() - *lastSaid < std::chrono::seconds(1)) return;
    *lastSaid = SteadyClock::now();
    if (p.total > 0) {
      spdlog::info("{} the store in {}: {} {} of {}", doing, dir.string(), p.phase, p.done,
                   p.total);
    } else {
      spdlog::info("{} the store in {}: {} {}", doing, dir.string(), p.phase, p.done);
    }
  };
}

std::string secondsText(SteadyClock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

void printReport(std::ostream& out, const std::filesystem::path& dir,
                 const StoreCheckReport& report, SteadyClock::duration took) {
  out << "store in " << dir.string() << ": format "
      << (report.format == 0 ? std::string("not yet recorded (an empty store)")
                             : std::to_string(report.format))
      << ", checked in " << secondsText(took) << "\n";
  out << "  events: " << report.events << " (" << report.blocks << " hook.blocks of "
      << report.blockLines << " lines), quarantined: " << report.quarantined << "\n";
  for (const auto& [db, entries] : report.indexEntries) {
    out << "  " << db << ": " << entries << " entries\n";
  }
  out << "  counts: " << report.counts << " entries\n";
  if (report.clean()) {
    out << "clean: no damage found\n";
    return;
  }
  out << "damage: " << report.damageTotal() << " findings\n";
  for (std::size_t k = 0; k < kStoreDamageKinds; ++k) {
    if (report.damage[k] == 0) continue;
    out << "  " << report.damage[k] << " " << storeDamageName(static_cast<StoreDamage>(k)) << "\n";
  }
  out << (report.findings.size() < report.damageTotal()
              ? "the first " + std::to_string(report.findings.size()) + ":\n"
              : std::string("where:\n"));
  for (const StoreFinding& f : report.findings) out << "  " << f.text << "\n";
}

StoreCheckReport checkAndPrint(lmdb::Env& env, const std::filesystem::path& dir,
                               std::ostream& out) {
  const SteadyClock::time_point start = SteadyClock::now();
  const StoreCheckReport report =
      checkStore(env, {.maxFindingsListed = 20, .progress = progressEverySecond(dir, "checking")});
  printReport(out, dir, report, SteadyClock::now() - start);
  return report;
}

}  // namespace

int runStoreCheck(const std::filesystem::path& dataDir, std::size_t mapSize, bool repair,
                  std::ostream& out) {
  if (!std::filesystem::exists(dataDir / "data.mdb")) {
    spdlog::critical("no store in {} (no data.mdb): nothing to check", dataDir.string());
    return 1;
  }
  try {
    lmdb::Env env =
        repair ? openCollectorEnv(dataDir, mapSize) : openCollectorEnvReadOnly(dataDir, mapSize);
    StoreCheckReport report = checkAndPrint(env, dataDir, out);
    if (!report.clean() && repair) {
      const SteadyClock::time_point start = SteadyClock::now();
      const IndexRepairResult repaired = repairIndexes(
          env, {.itemsPerTxn = 20000, .progress = progressEverySecond(dataDir, "repairing")});
      out << "repaired indexes in " << secondsText(SteadyClock::now() - start) << ": "
          << repaired.entriesAdded << " entries added, " << repaired.valuesRewritten
          << " values rewritten, " << repaired.entriesRemoved << " entries removed, "
          << repaired.countsRewritten << " counts rewritten; checking again\n";
      report = checkAndPrint(env, dataDir, out);
    }
    if (!report.clean()) {
      out << (repair ? "what is left is not index or count damage: events, marks and quarantine "
                       "are never repaired (restore them from a backup)\n"
                     : "index and count damage can be repaired with `check --repair-indexes`; "
                       "events, marks and quarantine cannot\n");
    }
    out.flush();
    return report.clean() ? kStoreCheckClean : kStoreCheckDamaged;
  } catch (const std::exception& e) {
    out.flush();
    spdlog::critical("cannot check the store in {}: {}", dataDir.string(), e.what());
    return 1;
  }
}

}  // namespace octolaunch
