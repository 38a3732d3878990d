#include "collector/store/store_backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <system_error>

#include "collector/store/store_env.h"
#include "collector/store/store_format.h"
#include "shared/lmdb/lmdb.h"

namespace octolaunch {

namespace {

namespace fs = std::filesystem;

constexpr mode_t kStoreFileMode = 0640;  // as openCollectorEnv creates data.mdb

std::string errnoText(int err) { return std::strerror(err); }

// fsync of a file or directory, so that a rename or a new entry in it survives a power loss.
void syncPath(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw BackupError("cannot open " + path.string() + ": " + errnoText(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw BackupError("cannot fsync " + path.string() + ": " + errnoText(err));
}

void renameOrThrow(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw BackupError("cannot rename " + from.string() + " to " + to.string() + ": " +
                      errnoText(errno));
  }
}

// A store file opened to be read only by this process, without touching its lock file (a backup
// copy has none, and must get none).
lmdb::Env openStoreCopy(const fs::path& dir, std::size_t mapSize) {
  return lmdb::Env::open({.dir = dir,
                          .mapSize = mapSize,
                          .maxDbs = 32,
                          .maxReaders = 254,
                          .flags = MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS,
                          .fileMode = kStoreFileMode});
}

// What a store copy holds: its events and its format (1 when it has no format record).
struct StoreCopySummary {
  std::uint64_t events = 0;
  std::uint32_t format = 1;
  std::uint64_t txnId = 0;
};

StoreCopySummary summarizeStoreCopy(const fs::path& dir, std::size_t mapSize) {
  lmdb::Env env = openStoreCopy(dir, mapSize);
  StoreCopySummary summary;
  summary.txnId = env.lastTxnId();
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::read);
  try {
    summary.events = lmdb::entriesIn(txn, lmdb::openDbi(txn, "events"));
  } catch (const lmdb::Error& e) {
    if (!e.notFound()) throw;
    throw BackupError((dir / "data.mdb").string() +
                      " is an LMDB file but no collector store (it has no events database)");
  }
  try {
    const MDB_dbi meta = openMetaDbi(txn);
    summary.format = recordedStoreFormat(txn, meta).value_or(1);
  } catch (const lmdb::Error& e) {
    if (!e.notFound()) throw;  // no meta database: a store of format 1
  }
  return summary;
}

std::uint64_t fileBytes(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

// The directory a path names, without a trailing slash ("b/" is "b").
fs::path withoutTrailingSlash(const fs::path& path) {
  fs::path p = path.lexically_normal();
  if (p.has_parent_path() && !p.has_filename()) p = p.parent_path();
  return p;
}

std::string utcStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// Copies a file to a new file of the store's mode and fsyncs it.
void copyStoreFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::none, ec);
  if (ec) {
    throw BackupError("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
  }
  fs::permissions(to, static_cast<fs::perms>(kStoreFileMode), fs::perm_options::replace, ec);
  if (ec) throw BackupError("cannot set the mode of " + to.string() + ": " + ec.message());
  // Run as root, the file goes to the data directory's owner (the collector's user), as if the
  // collector had created it.
  struct stat dir {};
  if (::geteuid() == 0 && ::stat(to.parent_path().c_str(), &dir) == 0 &&
      ::chown(to.c_str(), dir.st_uid, dir.st_gid) != 0) {
    throw BackupError("cannot give " + to.string() +
                      " to the owner of its directory: " + errnoText(errno));
  }
  syncPath(to);
}

}  // namespace

std::optional<pid_t> storeUser(const fs::path& dataDir) {
  const fs::path lockFile = dataDir / "lock.mdb";
  const int fd = ::open(lockFile.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw BackupError("cannot open " + lockFile.string() +
                      " to see whether the store is in use: " + errnoText(errno));
  }
  // Every process with the environment open holds a shared lock on byte 0 (LMDB's
  // mdb_env_excl_lock); an exclusive one would conflict with it.
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 1;
  const int rc = ::fcntl(fd, F_GETLK, &probe);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    throw BackupError("cannot query the locks of " + lockFile.string() + ": " + errnoText(err));
  }
  if (probe.l_type == F_UNLCK) return std::nullopt;
  return probe.l_pid;
}

BackupResult backupStore(const BackupOptions& options) {
  const auto say = [&options](const std::string& line) {
    if (options.say) options.say(line);
  };
  const fs::path source = options.dataDir / "data.mdb";
  if (!fs::is_regular_file(source)) {
    throw BackupError("no store in " + options.dataDir.string() +
                      " (no data.mdb): nothing to back up");
  }
  const fs::path to = withoutTrailingSlash(options.to);
  std::error_code ec;
  if (fs::exists(to, ec) && !(fs::is_directory(to, ec) && fs::is_empty(to, ec))) {
    throw BackupError(to.string() +
                      " exists and is not empty: a backup goes into a new (or empty) directory");
  }
  const fs::path partial =
      to.parent_path() / (to.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  if (ec) throw BackupError("cannot create " + partial.string() + ": " + ec.message());

  BackupResult result;
  result.path = to;
  result.compacted = options.compact;
  try {
    {
      lmdb::Env env = openCollectorEnv(options.dataDir, options.mapSize);
      result.sourceBytes = fileBytes(source);
      say("backing up " + source.string() + " (" + std::to_string(result.sourceBytes) +
          " bytes) into " + partial.string() + (options.compact ? ", compacting" : ""));
      const auto started = std::chrono::steady_clock::now();
      result.txnBefore = env.lastTxnId();
      env.copyTo(partial / "data.mdb", options.compact, kStoreFileMode);
      result.txnAfter = env.lastTxnId();
      result.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }
    say("copy written and synced; checking it");
    const StoreCopySummary copy = summarizeStoreCopy(partial, options.mapSize);
    result.events = copy.events;
    if (!options.compact) result.txnExact = copy.txnId;
    result.bytes = fileBytes(partial / "data.mdb");
    syncPath(partial);
    renameOrThrow(partial, to);  // replaces `to` when it is an empty directory
    syncPath(to.parent_path().empty() ? fs::path(".") : to.parent_path());
  } catch (...) {
    fs::remove_all(partial, ec);
    throw;
  }
  say("backup complete: " + to.string());
  return result;
}

RestoreResult restoreStore(const RestoreOptions& options) {
  const auto say = [&options](const std::string& line) {
    if (options.say) options.say(line);
  };
  const fs::path backupFile = options.from / "data.mdb";
  if (!fs::is_regular_file(backupFile)) {
    throw BackupError("no store in " + options.from.string() +
                      " (no data.mdb): nothing to restore");
  }
  if (auto pid = storeUser(options.from)) {
    throw BackupError(options.from.string() + " is in use by process " + std::to_string(*pid) +
                      ": a store being written is no backup; take one with backup and restore "
                      "that");
  }
  const StoreCopySummary backup = summarizeStoreCopy(options.from, options.mapSize);
  refuseNewerFormat(backup.format);  // throws StoreError with the collector's own words

  const fs::path target = options.dataDir / "data.mdb";
  if (auto pid = storeUser(options.dataDir)) {
    throw BackupError("it is in use by process " + std::to_string(*pid) +
                      " (a running collector?): stop it before restoring over it");
  }
  const bool hadStore = fs::exists(target);
  if (hadStore && !options.replace) {
    throw BackupError(options.dataDir.string() +
                      " already holds a store (data.mdb): nothing restored; restore --replace "
                      "moves it aside and restores over it");
  }
  std::error_code ec;
  fs::create_directories(options.dataDir, ec);
  if (ec) throw BackupError("cannot create " + options.dataDir.string() + ": " + ec.message());

  RestoreResult result;
  result.file = target;
  result.events = backup.events;
  result.format = backup.format;
  const fs::path partial =
      options.dataDir / ("data.mdb.restore-partial-" + std::to_string(::getpid()));
  fs::remove(partial, ec);
  say("restoring " + backupFile.string() + " (" + std::to_string(fileBytes(backupFile)) +
      " bytes) into " + options.dataDir.string());
  try {
    copyStoreFile(backupFile, partial);
    if (hadStore) {
      fs::path aside = options.dataDir / ("data.mdb.before-restore-" + utcStamp());
      for (int n = 2; fs::exists(aside); ++n) {
        aside =
            options.dataDir / ("data.mdb.before-restore-" + utcStamp() + "-" + std::to_string(n));
      }
      renameOrThrow(target, aside);
      result.movedAside = aside;
    }
    renameOrThrow(partial, target);
    syncPath(options.dataDir);
  } catch (...) {
    fs::remove(partial, ec);
    throw;
  }
  result.bytes = fileBytes(target);
  return result;
}

std::string backupSummary(const BackupResult& r) {
  std::string s =
      "backup in " + r.path.string() + ": " + std::to_string(r.bytes) + " bytes" +
      (r.compacted ? " (compacted; the store's file has " + std::to_string(r.sourceBytes) + ")"
                   : "") +
      ", " + std::to_string(r.events) + " events, snapshot of transaction ";
  if (r.txnExact) {
    s += std::to_string(*r.txnExact);
  } else if (r.txnBefore == r.txnAfter) {
    s += std::to_string(r.txnBefore);
  } else {
    s += std::to_string(r.txnBefore) + " to " + std::to_string(r.txnAfter) +
         " (committed meanwhile; a compacted copy does not record which)";
  }
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f", r.seconds);
  return s + ", " + seconds + " s";
}

std::string restoreSummary(const RestoreResult& r) {
  std::string s = "restored into " + r.file.string() + ": " + std::to_string(r.bytes) + " bytes, " +
                  std::to_string(r.events) + " events, format " + std::to_string(r.format);
  if (r.format < kStoreFormat) s += " (the collector migrates it when it starts)";
  if (r.movedAside) s += "; the store it replaced is now " + r.movedAside->string();
  return s;
}

}  // namespace octolaunch
