// `octolaunch-collector check [--repair-indexes]`: checks the store in a directory (store_check.h)
// and prints what it found (docs/store-format.md, "Checking a store").
//
// Contract
//  * Never creates a store: without dataDir/data.mdb it says so and returns 1, creating nothing.
//  * Without repair it opens the environment read-only (MDB_RDONLY) and writes nothing; a
//    collector may run on the store meanwhile.
//  * With repair, a store the check finds damaged gets repairIndexes() and a second check; the
//    exit status is the last check's.
//  * Prints the summary (events, blocks, entries per database, damage by kind, the first findings,
//    the time taken) on `out`, progress every second and errors through spdlog (stderr).
//  * Returns kStoreCheckClean, kStoreCheckDamaged, or 1 when the store cannot be checked (none
//    there, unreadable, another format).
#pragma once

#include <cstddef>
#include <filesystem>
#include <iosfwd>

namespace octolaunch {

inline constexpr int kStoreCheckClean = 0;
inline constexpr int kStoreCheckDamaged = 3;

int runStoreCheck(const std::filesystem::path& dataDir, std::size_t mapSize, bool repair,
                  std::ostream& out);

}  // namespace octolaunch
