#include "shared/lmdb/lmdb.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace octolaunch::lmdb {

Error::Error(const std::string& what, int code) : std::runtime_error(what), code_(code) {}

void check(int rc, const char* what) {
  if (rc != 0) {
    throw Error(std::string(what) + ": " + mdb_strerror(rc), rc);
  }
}

namespace {
MDB_val toVal(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
}  // namespace

Env Env::open(const EnvOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    throw Error("cannot create " + options.dir.string() + ": " + ec.message(), ec.value());
  }
  MDB_env* raw = nullptr;
  check(mdb_env_create(&raw), "mdb_env_create");
  Env env(raw);
  check(mdb_env_set_maxdbs(raw, options.maxDbs), "mdb_env_set_maxdbs");
  check(mdb_env_set_maxreaders(raw, options.maxReaders), "mdb_env_set_maxreaders");
  check(mdb_env_set_mapsize(raw, options.mapSize), "mdb_env_set_mapsize");
  int rc = mdb_env_open(raw, options.dir.c_str(), options.flags, options.fileMode);
  if (rc != 0) {
    throw Error("cannot open LMDB environment " + options.dir.string() + ": " + mdb_strerror(rc),
                rc);
  }
  env.readerCheck();
  return env;
}

Env::Env(Env&& other) noexcept : env_(std::exchange(other.env_, nullptr)) {}

Env& Env::operator=(Env&& other) noexcept {
  if (this != &other) {
    if (env_ != nullptr) mdb_env_close(env_);
    env_ = std::exchange(other.env_, nullptr);
  }
  return *this;
}

Env::~Env() {
  if (env_ != nullptr) mdb_env_close(env_);
}

int Env::readerCheck() {
  int dead = 0;
  mdb_reader_check(env_, &dead);
  return dead;
}

std::size_t Env::usedBytes() const {
  MDB_envinfo info{};
  MDB_stat stat{};
  mdb_env_info(env_, &info);
  mdb_env_stat(env_, &stat);
  return (info.me_last_pgno + 1) * static_cast<std::size_t>(stat.ms_psize);
}

std::size_t Env::mapSize() const {
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

void Env::setMapSize(std::size_t bytes) {
  check(mdb_env_set_mapsize(env_, bytes), "mdb_env_set_mapsize");
}

std::uint64_t Env::lastTxnId() const {
  MDB_envinfo info{};
  mdb_env_info(env_, &info);
  return info.me_last_txnid;
}

void Env::copyTo(const std::filesystem::path& file, bool compact, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    const int err = errno;
    throw Error("cannot create " + file.string() + ": " + std::strerror(err), err);
  }
  int rc = mdb_env_copyfd2(env_, fd, compact ? MDB_CP_COMPACT : 0);
  if (rc == 0 && ::fsync(fd) != 0) rc = errno;
  if (::close(fd) != 0 && rc == 0) rc = errno;
  if (rc != 0) {
    throw Error("cannot copy the LMDB environment to " + file.string() + ": " + mdb_strerror(rc),
                rc);
  }
}

Txn Txn::begin(Env& env, Mode mode) {
  MDB_txn* txn = nullptr;
  unsigned flags = mode == Mode::read ? MDB_RDONLY : 0;
  int rc = mdb_txn_begin(env.get(), nullptr, flags, &txn);
  if (rc == MDB_MAP_RESIZED) {
    // Another process grew the map: adopt its size and try once more.
    check(mdb_env_set_mapsize(env.get(), 0), "mdb_env_set_mapsize");
    rc = mdb_txn_begin(env.get(), nullptr, flags, &txn);
  }
  check(rc, "mdb_txn_begin");
  return Txn(txn, mode);
}

Txn::Txn(Txn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)), mode_(other.mode_) {}

Txn& Txn::operator=(Txn&& other) noexcept {
  if (this != &other) {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = std::exchange(other.txn_, nullptr);
    mode_ = other.mode_;
  }
  return *this;
}

Txn::~Txn() {
  if (txn_ != nullptr) mdb_txn_abort(txn_);
}

void Txn::commit() {
  MDB_txn* txn = std::exchange(txn_, nullptr);
  check(mdb_txn_commit(txn), "mdb_txn_commit");
}

void Txn::abort() {
  if (txn_ != nullptr) mdb_txn_abort(std::exchange(txn_, nullptr));
}

void Txn::reset() { mdb_txn_reset(txn_); }

void Txn::renew() { check(mdb_txn_renew(txn_), "mdb_txn_renew"); }

MDB_dbi openDbi(Txn& txn, const char* name, unsigned flags) {
  MDB_dbi dbi = 0;
  if (!txn.readOnly()) flags |= MDB_CREATE;
  check(mdb_dbi_open(txn.get(), name, flags, &dbi), name);
  return dbi;
}

std::optional<std::string_view> get(Txn& txn, MDB_dbi dbi, std::string_view key) {
  MDB_val k = toVal(key);
  MDB_val v{};
  int rc = mdb_get(txn.get(), dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check(rc, "mdb_get");
  return std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
}

void put(Txn& txn, MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = toVal(key);
  MDB_val v = toVal(value);
  check(mdb_put(txn.get(), dbi, &k, &v, flags), "mdb_put");
}

char* reserve(Txn& txn, MDB_dbi dbi, std::string_view key, std::size_t size, unsigned flags) {
  MDB_val k = toVal(key);
  MDB_val v{size, nullptr};
  check(mdb_put(txn.get(), dbi, &k, &v, flags | MDB_RESERVE), "mdb_put");
  return static_cast<char*>(v.mv_data);
}

SpaceUse spaceUse(Txn& txn) {
  MDB_envinfo info{};
  MDB_stat stat{};
  MDB_env* env = mdb_txn_env(txn.get());
  check(mdb_env_info(env, &info), "mdb_env_info");
  check(mdb_env_stat(env, &stat), "mdb_env_stat");
  std::uint64_t freePages = 0;
  // Database 0 is LMDB's free list: each value is a page-number list whose first word is its
  // length (as mdb_stat -f reads it).
  MDB_cursor* cursor = nullptr;
  check(mdb_cursor_open(txn.get(), 0, &cursor), "mdb_cursor_open (free list)");
  MDB_val key{}, value{};
  int rc = 0;
  while ((rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) == 0) {
    if (value.mv_size >= sizeof(std::size_t)) {
      std::size_t pages = 0;
      std::memcpy(&pages, value.mv_data, sizeof pages);
      freePages += pages;
    }
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_NOTFOUND) check(rc, "mdb_cursor_get (free list)");
  const std::uint64_t pageSize = stat.ms_psize;
  return {.extentBytes = (std::uint64_t{info.me_last_pgno} + 1) * pageSize,
          .freeBytes = freePages * pageSize};
}

std::uint64_t entriesIn(Txn& txn, MDB_dbi dbi) {
  MDB_stat stat{};
  check(mdb_stat(txn.get(), dbi, &stat), "mdb_stat");
  return stat.ms_entries;
}

bool del(Txn& txn, MDB_dbi dbi, std::string_view key) {
  MDB_val k = toVal(key);
  int rc = mdb_del(txn.get(), dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  check(rc, "mdb_del");
  return true;
}

Cursor::Cursor(Txn& txn, MDB_dbi dbi) {
  check(mdb_cursor_open(txn.get(), dbi, &cursor_), "mdb_cursor_open");
}

Cursor::Cursor(Cursor&& other) noexcept
    : cursor_(std::exchange(other.cursor_, nullptr)),
      key_(other.key_),
      value_(other.value_),
      valid_(other.valid_) {}

Cursor::~Cursor() {
  if (cursor_ != nullptr) mdb_cursor_close(cursor_);
}

bool Cursor::move(MDB_cursor_op op, std::string_view key) {
  if (op == MDB_SET_RANGE || op == MDB_SET_KEY) key_ = toVal(key);
  int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_NOTFOUND) {
    valid_ = false;
    return false;
  }
  check(rc, "mdb_cursor_get");
  valid_ = true;
  return true;
}

bool Cursor::first() { return move(MDB_FIRST); }
bool Cursor::last() { return move(MDB_LAST); }
bool Cursor::next() { return move(MDB_NEXT); }
bool Cursor::prev() { return move(MDB_PREV); }
bool Cursor::seek(std::string_view key) { return move(MDB_SET_RANGE, key); }
bool Cursor::find(std::string_view key) { return move(MDB_SET_KEY, key); }

void Cursor::del() {
  check(mdb_cursor_del(cursor_, 0), "mdb_cursor_del");
  valid_ = false;
}

void appendBigEndian(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::string bigEndian(std::uint64_t value) {
  std::string out;
  out.reserve(8);
  appendBigEndian(out, value);
  return out;
}

std::uint64_t readBigEndian(std::string_view bytes) {
  if (bytes.size() < 8) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string bigEndian32(std::uint32_t value) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i, value >>= 8) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
  }
  return out;
}

std::uint32_t readBigEndian32(std::string_view bytes) {
  if (bytes.size() < 4) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

}  // namespace octolaunch::lmdb
