// RAII wrapper around LMDB: environment, transaction, database handle and cursor.
//
// Contract
//  * Every failing call throws lmdb::Error carrying the LMDB (or errno) code; callers that must
//    survive a full map or disk check Error::mapFull() / Error::noSpace() and refuse the work.
//  * Expected absence (a key that is not there, a cursor past the end) is std::optional / false,
//    never an exception.
//  * Values returned as std::string_view point into the memory map: they are valid only until the
//    transaction that produced them ends (or, for a write transaction, until the next write).
//
// Caveats (from lmdb.h, and what follows for us)
//  * Never open the same environment twice in one process: locks are per process, and closing one
//    handle drops the other's locks. Open it once in main() and pass the Env down.
//  * A write transaction belongs to the thread that began it. Read transactions may move between
//    threads only when the Env was opened with MDB_NOTLS (EnvOptions::flags).
//  * Another process may grow the map; Txn::begin handles MDB_MAP_RESIZED by adopting the new size.
//  * A process killed while holding a read transaction leaves a stale reader slot that stops page
//    reuse: Env::open calls mdb_reader_check; long-running owners should call readerCheck() now
//    and then.
//  * Long read transactions stop free pages from being reused: keep them short.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace octolaunch::lmdb {

class Error final : public std::runtime_error {
 public:
  Error(const std::string& what, int code);
  int code() const { return code_; }
  bool mapFull() const { return code_ == MDB_MAP_FULL; }
  bool noSpace() const { return code_ == ENOSPC || code_ == EDQUOT; }
  bool notFound() const { return code_ == MDB_NOTFOUND; }

 private:
  int code_;
};

// Throws Error(what + ": " + mdb_strerror(rc), rc) when rc != 0.
void check(int rc, const char* what);

struct EnvOptions {
  std::filesystem::path dir;
  std::size_t mapSize = std::size_t{1} << 30;
  unsigned maxDbs = 16;
  unsigned maxReaders = 126;
  unsigned flags = 0;  // e.g. MDB_NOTLS; MDB_NOSUBDIR is not supported
  mode_t fileMode = 0640;
};

class Env final {
 public:
  // Creates dir if missing. Throws Error on failure.
  static Env open(const EnvOptions& options);

  Env(Env&& other) noexcept;
  Env& operator=(Env&& other) noexcept;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env();

  MDB_env* get() const { return env_; }
  // Clears stale reader slots; returns how many were cleared.
  int readerCheck();
  // Bytes of the data file in use (last page number * page size), from mdb_env_info.
  std::size_t usedBytes() const;
  std::size_t mapSize() const;
  // Grows (or shrinks) the map; only when no transaction of this process is active.
  void setMapSize(std::size_t bytes);
  // The id of the last committed transaction, from mdb_env_info.
  std::uint64_t lastTxnId() const;
  // Writes a consistent copy of the environment into `file` (created with `mode`; it must not
  // exist) and fsyncs it: mdb_env_copyfd2, which copies the snapshot of one read transaction
  // begun when the copy starts. compact (MDB_CP_COMPACT): only the live pages, renumbered, and
  // the copy's transaction id restarts at 1; the plain copy holds LMDB's writer mutex while it
  // writes the two meta pages (a writer waits that long), the compacting one never takes it.
  // Throws Error (naming the file) on failure; a partial file is left for the caller to remove.
  void copyTo(const std::filesystem::path& file, bool compact, mode_t mode = 0640);

 private:
  explicit Env(MDB_env* env) : env_(env) {}
  MDB_env* env_ = nullptr;
};

class Txn final {
 public:
  enum class Mode { read, write };
  static Txn begin(Env& env, Mode mode);

  Txn(Txn&& other) noexcept;
  Txn& operator=(Txn&& other) noexcept;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();  // aborts if neither committed nor aborted

  void commit();
  void abort();
  // Read transactions only: release the snapshot and take a fresh one later with renew().
  void reset();
  void renew();
  MDB_txn* get() const { return txn_; }
  bool readOnly() const { return mode_ == Mode::read; }

 private:
  Txn(MDB_txn* txn, Mode mode) : txn_(txn), mode_(mode) {}
  MDB_txn* txn_ = nullptr;
  Mode mode_ = Mode::read;
};

// How much of the data file a transaction's snapshot uses: the file's extent up to its last
// page, and the pages in it that LMDB's free list holds for reuse (pages freed by deletions are
// reused by later writes once no older reader needs them).
struct SpaceUse {
  std::uint64_t extentBytes = 0;
  std::uint64_t freeBytes = 0;
  std::uint64_t usedBytes() const { return extentBytes - freeBytes; }
};
SpaceUse spaceUse(Txn& txn);

// Opens (creating with MDB_CREATE when the transaction writes) a named database.
MDB_dbi openDbi(Txn& txn, const char* name, unsigned flags = 0);

std::optional<std::string_view> get(Txn& txn, MDB_dbi dbi, std::string_view key);
// Throws Error (MDB_KEYEXIST when flags has MDB_NOOVERWRITE/MDB_APPEND and the key is taken).
void put(Txn& txn, MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
// Reserves size bytes for key and returns writable memory in the map (MDB_RESERVE).
char* reserve(Txn& txn, MDB_dbi dbi, std::string_view key, std::size_t size, unsigned flags = 0);
// Entries in a database (mdb_stat).
std::uint64_t entriesIn(Txn& txn, MDB_dbi dbi);
// Returns false when the key was not there.
bool del(Txn& txn, MDB_dbi dbi, std::string_view key);

class Cursor final {
 public:
  Cursor(Txn& txn, MDB_dbi dbi);
  Cursor(Cursor&& other) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  Cursor& operator=(Cursor&&) = delete;
  ~Cursor();

  bool first();
  bool last();
  bool next();
  bool prev();
  // Positions at the first key >= key.
  bool seek(std::string_view key);
  // Positions at exactly key.
  bool find(std::string_view key);
  std::string_view key() const { return toView(key_); }
  std::string_view value() const { return toView(value_); }
  // Deletes the current item. As in LMDB, a following next() yields the item after it.
  void del();
  bool valid() const { return valid_; }

 private:
  bool move(MDB_cursor_op op, std::string_view key = {});
  static std::string_view toView(const MDB_val& v) {
    return {static_cast<const char*>(v.mv_data), v.mv_size};
  }
  MDB_cursor* cursor_ = nullptr;
  MDB_val key_{};
  MDB_val value_{};
  bool valid_ = false;
};

// Big-endian integer keys sort in numeric order under LMDB's default byte comparison.
void appendBigEndian(std::string& out, std::uint64_t value);
std::string bigEndian(std::uint64_t value);
std::uint64_t readBigEndian(std::string_view bytes);  // first 8 bytes; 0 if shorter
std::string bigEndian32(std::uint32_t value);
std::uint32_t readBigEndian32(std::string_view bytes);  // first 4 bytes; 0 if shorter

}  // namespace octolaunch::lmdb
