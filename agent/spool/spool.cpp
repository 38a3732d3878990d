#include "agent/spool/spool.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/io.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "shared/event/event_kinds.h"

namespace octolaunch::agent {

namespace {

constexpr std::uint64_t kMapHeadroom = std::uint64_t{64} << 20;
constexpr std::size_t kScratchWords = 8192;  // 64 KiB: one segment for any ordinary event

// Meta keys. Values are 8-byte big-endian integers.
constexpr std::string_view kEpochKey = "epoch";
constexpr std::string_view kLastSeqKey = "last_seq";
constexpr std::string_view kBytesKey = "bytes";
constexpr std::string_view kShedCountKey = "shed_count";
constexpr std::string_view kShedFirstKey = "shed_first_ns";
constexpr std::string_view kShedLastKey = "shed_last_ns";
constexpr std::string_view kShedTotalKey = "shed_total";

std::uint64_t randomEpoch() {
  std::uint64_t value = 0;
  while (value == 0) {
    if (getrandom(&value, sizeof(value), 0) != sizeof(value)) {
      throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    }
  }
  return value;
}

void makeSharedDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return;
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 02770) != 0 && errno != EEXIST) {
    throw std::runtime_error("cannot create spool directory " + dir.string() + ": " +
                             std::strerror(errno));
  }
  // mkdir's mode is filtered by the umask; the group bits are the point.
  ::chmod(dir.c_str(), 02770);
}

}  // namespace

struct Spool::Meta {
  std::uint64_t lastSeq = 0;
  std::uint64_t bytes = 0;
  std::uint64_t shedCount = 0;
  std::int64_t shedFirstNs = 0;
  std::int64_t shedLastNs = 0;
  std::uint64_t shedTotal = 0;
};

lmdb::Env Spool::openEnv(const std::filesystem::path& dir, std::uint64_t maxBytes) {
  makeSharedDir(dir);
  lmdb::EnvOptions env;
  env.dir = dir;
  env.mapSize = 2 * maxBytes + kMapHeadroom;
  env.maxDbs = 4;
  env.flags = MDB_NOTLS;
  env.fileMode = 0660;
  // Files must come out group-writable whatever the caller's umask says.
  mode_t old = ::umask(0);
  ::umask(old & ~static_cast<mode_t>(0060));
  try {
    auto opened = lmdb::Env::open(env);
    ::umask(old);
    return opened;
  } catch (...) {
    ::umask(old);
    throw;
  }
}

std::unique_ptr<Spool> Spool::open(const SpoolOptions& options) {
  try {
    return std::unique_ptr<Spool>(new Spool(openEnv(options.dir, options.maxBytes), options));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot open spool " + options.dir.string() + ": " + e.what());
  }
}

Spool::Spool(lmdb::Env env, const SpoolOptions& options)
    : env_(std::move(env)),
      dir_(options.dir),
      maxBytes_(options.maxBytes),
      clock_(options.clock != nullptr ? *options.clock : systemClock_),
      scratch_(kScratchWords) {
  attach();
}

void Spool::attach() {
  // Usual case, without a synced write: the spool exists already.
  {
    auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    MDB_dbi events = 0;
    MDB_dbi meta = 0;
    if (mdb_dbi_open(txn.get(), "events", 0, &events) == 0 &&
        mdb_dbi_open(txn.get(), "meta", 0, &meta) == 0) {
      if (auto stored = lmdb::get(txn, meta, kEpochKey)) {
        events_ = events;
        meta_ = meta;
        epoch_ = lmdb::readBigEndian(*stored);
        txn.commit();  // keeps the database handles
        rememberDataFile();
        return;
      }
    }
  }
  auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
  events_ = lmdb::openDbi(txn, "events");
  meta_ = lmdb::openDbi(txn, "meta");
  if (auto stored = lmdb::get(txn, meta_, kEpochKey)) {
    epoch_ = lmdb::readBigEndian(*stored);
  } else {
    epoch_ = randomEpoch();
    lmdb::put(txn, meta_, kEpochKey, lmdb::bigEndian(epoch_));
    saveMeta(txn, Meta{});
  }
  // Committed either way: database handles opened in an aborted transaction are closed.
  txn.commit();
  rememberDataFile();
}

void Spool::rememberDataFile() {
  struct stat st {};
  if (::stat(dataFile().c_str(), &st) == 0) {
    dataDev_ = st.st_dev;
    dataIno_ = st.st_ino;
  }
}

bool Spool::reopenIfReplaced() {
  if (!replacedOnDisk()) return false;
  std::unique_lock lock(envMutex_);
  if (!replacedOnDisk()) return false;
  try {
    lmdb::Env fresh = openEnv(dir_, maxBytes_);
    env_ = std::move(fresh);  // closes the old (unlinked) environment
    attach();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot reopen spool " + dir_.string() + ": " + e.what());
  }
  return true;
}

Spool::~Spool() = default;

bool Spool::replacedOnDisk() const {
  struct stat st {};
  if (::stat(dataFile().c_str(), &st) != 0) return true;
  return st.st_dev != dataDev_ || st.st_ino != dataIno_;
}

Spool::Meta Spool::loadMeta(lmdb::Txn& txn) {
  auto read = [&](std::string_view key) -> std::uint64_t {
    auto v = lmdb::get(txn, meta_, key);
    return v ? lmdb::readBigEndian(*v) : 0;
  };
  Meta m;
  m.lastSeq = read(kLastSeqKey);
  m.bytes = read(kBytesKey);
  m.shedCount = read(kShedCountKey);
  m.shedFirstNs = static_cast<std::int64_t>(read(kShedFirstKey));
  m.shedLastNs = static_cast<std::int64_t>(read(kShedLastKey));
  m.shedTotal = read(kShedTotalKey);
  return m;
}

void Spool::saveMeta(lmdb::Txn& txn, const Meta& m) {
  lmdb::put(txn, meta_, kLastSeqKey, lmdb::bigEndian(m.lastSeq));
  lmdb::put(txn, meta_, kBytesKey, lmdb::bigEndian(m.bytes));
  lmdb::put(txn, meta_, kShedCountKey, lmdb::bigEndian(m.shedCount));
  lmdb::put(txn, meta_, kShedFirstKey, lmdb::bigEndian(static_cast<std::uint64_t>(m.shedFirstNs)));
  lmdb::put(txn, meta_, kShedLastKey, lmdb::bigEndian(static_cast<std::uint64_t>(m.shedLastNs)));
  lmdb::put(txn, meta_, kShedTotalKey, lmdb::bigEndian(m.shedTotal));
}

void Spool::storeEvent(lmdb::Txn& txn, Meta& meta, schema::Event::Reader event, bool mayShed,
                       std::size_t& accepted) {
  // Copy into a message of our own so epoch and seq can be set. The builder's first segment is
  // scratch memory that it zeroes again when destroyed.
  capnp::MallocMessageBuilder message(kj::arrayPtr(scratch_.data(), scratch_.size()));
  message.setRoot(event);
  auto root = message.getRoot<schema::Event>();
  root.setEpoch(epoch_);
  root.setReceivedNs(0);
  std::size_t bytes = capnp::computeSerializedSizeInWords(message) * sizeof(capnp::word);
  if (mayShed && meta.bytes + bytes > maxBytes_) {
    if (meta.shedCount == 0) meta.shedFirstNs = event.getTimeNs();
    meta.shedLastNs = event.getTimeNs();
    ++meta.shedCount;
    ++meta.shedTotal;
    return;
  }
  root.setSeq(++meta.lastSeq);
  char* out = lmdb::reserve(txn, events_, lmdb::bigEndian(meta.lastSeq), bytes, MDB_APPEND);
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out), bytes));
  capnp::writeMessage(stream, message);
  meta.bytes += bytes;
  ++accepted;
}

void Spool::maybeStoreShedEvent(lmdb::Txn& txn, Meta& meta) {
  if (meta.shedCount == 0 || meta.bytes >= maxBytes_ - maxBytes_ / 10) return;
  capnp::MallocMessageBuilder message(64);
  auto event = message.initRoot<schema::Event>();
  event.setTimeNs(clock_.nowNs());
  auto shed = event.getPayload().initSpoolShed();
  shed.setCount(meta.shedCount);
  shed.setFirstNs(meta.shedFirstNs);
  shed.setLastNs(meta.shedLastNs);
  std::size_t ignored = 0;
  storeEvent(txn, meta, event.asReader(), false, ignored);
  meta.shedCount = 0;
  meta.shedFirstNs = 0;
  meta.shedLastNs = 0;
}

std::size_t Spool::append(std::span<const schema::Event::Reader> events) {
  std::shared_lock lock(envMutex_);
  std::size_t accepted = 0;
  try {
    auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
    Meta meta = loadMeta(txn);
    maybeStoreShedEvent(txn, meta);
    for (const auto& event : events) storeEvent(txn, meta, event, spoolMayShed(event), accepted);
    saveMeta(txn, meta);
    txn.commit();
  } catch (const lmdb::Error& e) {
    if (e.mapFull()) {
      throw SpoolFullError("spool " + dir_.string() + " is full (LMDB map of " +
                           std::to_string(env_.mapSize()) +
                           " bytes exhausted by events that are never shed): " + e.what());
    }
    throw std::runtime_error("spool " + dir_.string() + ": append failed: " + e.what());
  }
  announceCommit();
  return accepted;
}

void Spool::announceCommit() const {
  // LMDB's last write of a commit (the meta page) comes before the commit is published to new
  // readers, so a watcher woken by that write may read the spool too early; this later change of
  // the file's times wakes it again, now that the commit is visible. Best effort: a watcher still
  // has its slow re-check.
  (void)::utimensat(AT_FDCWD, dataFile().c_str(), nullptr, 0);
}

std::size_t Spool::readAfter(std::uint64_t afterSeq, std::size_t maxEvents, const ReadFn& fn) {
  std::shared_lock lock(envMutex_);
  auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
  lmdb::Cursor cursor(txn, events_);
  std::vector<capnp::word> aligned;
  std::size_t visited = 0;
  for (bool ok = cursor.seek(lmdb::bigEndian(afterSeq + 1)); ok && visited < maxEvents;
       ok = cursor.next()) {
    std::string_view value = cursor.value();
    if (value.size() % sizeof(capnp::word) != 0) {
      throw std::runtime_error("spool " + dir_.string() + ": stored event of " +
                               std::to_string(value.size()) + " bytes is not word-aligned");
    }
    aligned.resize(value.size() / sizeof(capnp::word));
    std::memcpy(aligned.data(), value.data(), value.size());
    fn(lmdb::readBigEndian(cursor.key()), kj::arrayPtr(aligned.data(), aligned.size()));
    ++visited;
  }
  return visited;
}

std::size_t Spool::ackThrough(std::uint64_t seq) {
  std::shared_lock lock(envMutex_);
  auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
  Meta meta = loadMeta(txn);
  std::size_t deleted = 0;
  {
    lmdb::Cursor cursor(txn, events_);
    bool ok = cursor.first();
    while (ok && lmdb::readBigEndian(cursor.key()) <= seq) {
      std::size_t bytes = cursor.value().size();
      cursor.del();
      meta.bytes = meta.bytes >= bytes ? meta.bytes - bytes : 0;
      ++deleted;
      // After a delete the cursor sits on the following item (MDB_GET_CURRENT finds it).
      ok = cursor.first();
    }
  }
  if (deleted > 0 || meta.shedCount > 0) {
    maybeStoreShedEvent(txn, meta);
    saveMeta(txn, meta);
    txn.commit();
  }
  return deleted;
}

std::uint64_t Spool::lastSeq() { return stats().lastSeq; }

std::uint64_t Spool::pendingCount() { return stats().pendingEvents; }

SpoolStats Spool::stats() {
  std::shared_lock lock(envMutex_);
  auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
  Meta meta = loadMeta(txn);
  MDB_stat st{};
  lmdb::check(mdb_stat(txn.get(), events_, &st), "mdb_stat");
  SpoolStats out;
  out.pendingEvents = st.ms_entries;
  out.storedBytes = meta.bytes;
  out.lastSeq = meta.lastSeq;
  out.shedPending = meta.shedCount;
  out.shedTotal = meta.shedTotal;
  return out;
}

}  // namespace octolaunch::agent
