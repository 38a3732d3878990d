// Hot backup and restore of the collector's store (docs/operating.md, "Backup, restore and
// compaction").
//
// backupStore
//  * Copies the store in `dataDir` into the new directory `to` while a collector may be running
//    on it (another process): LMDB's copy (lmdb::Env::copyTo) reads one read transaction's
//    snapshot, taken when the copy starts. The collector acknowledges events only after a synced
//    commit, so the copy holds exactly the events acknowledged before it began, and nothing
//    committed later. The compacted copy never takes LMDB's writer mutex; the plain one takes it
//    once, to write the two meta pages (waiting for a write transaction in progress to end).
//  * `to` must not exist or be an empty directory. The copy is written into the sibling
//    `<to>.partial-<pid>`, fsynced, and renamed to `to` only when complete: a crash leaves the
//    partial directory (removed by nothing; its name says what it is), never an incomplete `to`.
//  * compact: the copy has no free pages (MDB_CP_COMPACT), so it may be much smaller.
//
// restoreStore
//  * `from` must hold a store this build can read (data.mdb; format kStoreFormat or older — a
//    collector migrates an older one when it starts). A newer format is refused with
//    refuseNewerFormat's words.
//    A `from` that some process has open (a collector started on it) is refused: its file may
//    change while it is copied.
//  * `dataDir` must not hold a store (data.mdb) unless `replace`; with `replace` the old data.mdb
//    is renamed to data.mdb.before-restore-<UTC time>, never deleted.
//  * Refused while any process has the target store open (a collector, a backup): every LMDB
//    process holds a shared fcntl lock on lock.mdb's first byte for as long as it has the
//    environment open, and restore asks the kernel for a conflicting one (storeUser).
//  * The file is copied to a temporary file in `dataDir`, fsynced, renamed to data.mdb (mode
//    0640, as the collector creates it; run as root, owned by the directory's owner), and the
//    directory fsynced.
//
// Both throw BackupError saying what was wrong (and lmdb::Error / StoreError for a damaged store);
// `say` hears progress lines (start, source size, end).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace octolaunch {

class BackupError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using BackupProgress = std::function<void(const std::string&)>;

struct BackupOptions {
  std::filesystem::path dataDir;
  std::size_t mapSize = 0;  // [store] map_size, as the collector opens the store
  std::filesystem::path to;
  bool compact = false;
  BackupProgress say;
};

struct BackupResult {
  std::filesystem::path path;     // the copy's directory
  std::uint64_t sourceBytes = 0;  // the source's data.mdb
  std::uint64_t bytes = 0;        // the copy's data.mdb
  std::uint64_t events = 0;       // entries of the copy's `events` database
  // The snapshot's transaction id: a plain copy's meta records it (txnExact); a compacted copy
  // restarts at 1, so it is only known to lie in [txnBefore, txnAfter], the last transactions
  // committed before the copy began and after it ended (equal when nothing was committed).
  std::uint64_t txnBefore = 0;
  std::uint64_t txnAfter = 0;
  std::optional<std::uint64_t> txnExact;
  double seconds = 0;
  bool compacted = false;
};

BackupResult backupStore(const BackupOptions& options);

struct RestoreOptions {
  std::filesystem::path from;
  std::filesystem::path dataDir;
  std::size_t mapSize = 0;
  bool replace = false;
  BackupProgress say;
};

struct RestoreResult {
  std::filesystem::path file;  // dataDir/data.mdb
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;
  std::uint32_t format = 0;                         // of the restored store (1: before formats)
  std::optional<std::filesystem::path> movedAside;  // the replaced data.mdb, with --replace
};

RestoreResult restoreStore(const RestoreOptions& options);

// One line each for stdout: where, bytes, events, the snapshot's transaction, time; what the
// restore replaced.
std::string backupSummary(const BackupResult& result);
std::string restoreSummary(const RestoreResult& result);

// The pid of a process that has the LMDB environment in `dataDir` open (its shared lock on
// lock.mdb), or nullopt when none has (or there is no lock.mdb). Not this process's own locks.
std::optional<pid_t> storeUser(const std::filesystem::path& dataDir);

}  // namespace octolaunch
