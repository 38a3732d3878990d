// Opening the collector's LMDB environment: once per process, in main(), shared by the event store
// and the release store (never open the same environment twice in one process).
#pragma once

#include <cstddef>
#include <filesystem>

#include "shared/lmdb/lmdb.h"

namespace octolaunch {

inline constexpr std::size_t kDefaultMapSize = std::size_t{8} << 30;  // 8 GiB

// MDB_NOTLS: HTTP worker threads each hold their own short read transactions.
// Throws lmdb::Error (naming the directory) when the environment cannot be opened.
lmdb::Env openCollectorEnv(const std::filesystem::path& dataDir,
                           std::size_t mapSize = kDefaultMapSize);

// The same environment for reading only (MDB_RDONLY): no write transaction can begin, and the
// data file is left as it is (only the lock file's reader table is used, as by any reader). For
// an existing store: callers check that data.mdb is there first.
lmdb::Env openCollectorEnvReadOnly(const std::filesystem::path& dataDir,
                                   std::size_t mapSize = kDefaultMapSize);

}  // namespace octolaunch
