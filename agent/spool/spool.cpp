#include "agent/spool/spool.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/io.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "shared/event/event_kinds.h"
#include "shared/event/hook_block.h"
#include "shared/util/random_bytes.h"

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
constexpr std::string_view kStorageFullAtKey = "storage_full_at";

constexpr std::string_view kReserveName = "reserve";

std::uint64_t randomEpoch() {
  std::uint64_t value = 0;
  while (value == 0) fillRandom(&value, sizeof(value));
  return value;
}

// The spool is the daemon's alone: the directory is made 0700 (also when an older agent left it
// setgid and group-writable), its files 0600.
void makePrivateDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      throw std::runtime_error("cannot create spool directory " + dir.string() + ": " +
                               std::strerror(errno));
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & 07777) != 0700 && st.st_uid == ::geteuid())
    ::chmod(dir.c_str(), 0700);
}

// Files an older agent created group-readable and writable are narrowed to the owner.
void makeFilesPrivate(const std::filesystem::path& dir) {
  for (const char* name : {"data.mdb", "lock.mdb"}) {
    const std::filesystem::path file = dir / name;
    struct stat st {};
    if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0 && st.st_uid == ::geteuid())
      ::chmod(file.c_str(), st.st_mode & 0700);
  }
}

std::string sessionKey(const BatchMark& mark) {
  std::string key = lmdb::bigEndian(mark.uid);
  key.append(reinterpret_cast<const char*>(mark.session.data()), mark.session.size());
  return key;
}

}  // namespace

struct Spool::Meta {
  std::uint64_t lastSeq = 0;
  std::uint64_t bytes = 0;
  std::uint64_t shedCount = 0;
  std::int64_t shedFirstNs = 0;
  std::int64_t shedLastNs = 0;
  std::uint64_t shedTotal = 0;
  // Stored bytes when the storage (filesystem or map) last refused a commit; 0 when it has room.
  std::uint64_t storageFullAt = 0;
};

lmdb::Env Spool::openEnv(const std::filesystem::path& dir, std::uint64_t maxBytes) {
  makePrivateDir(dir);
  makeFilesPrivate(dir);
  lmdb::EnvOptions env;
  env.dir = dir;
  env.mapSize = 2 * maxBytes + kMapHeadroom;
  env.maxDbs = 4;
  env.flags = MDB_NOTLS;
  env.fileMode = 0600;
  return lmdb::Env::open(env);
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
      reserveBytes_(options.reserveBytes),
      clock_(options.clock != nullptr ? *options.clock : systemClock_),
      scratch_(kScratchWords) {
  attach();
  if (reserveBytes_ > 0 && !reserveHeld()) takeReserve();
}

void Spool::attach() {
  // Usual case, without a synced write: the spool exists already.
  {
    auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    MDB_dbi events = 0;
    MDB_dbi meta = 0;
    MDB_dbi sessions = 0;
    if (mdb_dbi_open(txn.get(), "events", 0, &events) == 0 &&
        mdb_dbi_open(txn.get(), "meta", 0, &meta) == 0 &&
        mdb_dbi_open(txn.get(), "sessions", 0, &sessions) == 0) {
      if (auto stored = lmdb::get(txn, meta, kEpochKey)) {
        events_ = events;
        meta_ = meta;
        sessions_ = sessions;
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
  sessions_ = lmdb::openDbi(txn, "sessions");
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

std::uint64_t Spool::startNewEpoch() {
  std::unique_lock lock(envMutex_);
  auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
  std::uint64_t epoch = randomEpoch();
  lmdb::put(txn, meta_, kEpochKey, lmdb::bigEndian(epoch));
  txn.commit();
  epoch_ = epoch;
  return epoch_;
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
  m.storageFullAt = read(kStorageFullAtKey);
  return m;
}

void Spool::saveMeta(lmdb::Txn& txn, const Meta& m) {
  lmdb::put(txn, meta_, kLastSeqKey, lmdb::bigEndian(m.lastSeq));
  lmdb::put(txn, meta_, kBytesKey, lmdb::bigEndian(m.bytes));
  lmdb::put(txn, meta_, kShedCountKey, lmdb::bigEndian(m.shedCount));
  lmdb::put(txn, meta_, kShedFirstKey, lmdb::bigEndian(static_cast<std::uint64_t>(m.shedFirstNs)));
  lmdb::put(txn, meta_, kShedLastKey, lmdb::bigEndian(static_cast<std::uint64_t>(m.shedLastNs)));
  lmdb::put(txn, meta_, kShedTotalKey, lmdb::bigEndian(m.shedTotal));
  lmdb::put(txn, meta_, kStorageFullAtKey, lmdb::bigEndian(m.storageFullAt));
}

std::uint64_t Spool::sheddableBound(const Meta& meta) const {
  // After the storage refused a commit, low-value events get what room was judged left then
  // (pages that acknowledgements free are reused without growing the data file).
  if (meta.storageFullAt == 0) return maxBytes_;
  return std::min(maxBytes_, meta.storageFullAt);
}

void Spool::storeEvent(lmdb::Txn& txn, Meta& meta, schema::Event::Reader event, Admission admission,
                       std::size_t& accepted) {
  const bool record = admission == Admission::shedRecord;
  const bool sheddable = !record && spoolMayShed(event);
  // What was shed is told before the next event that is kept whatever happens (a hook.exit, a
  // deploy marker), so the record says so even if room never comes back.
  if (!record && !sheddable && meta.shedCount > 0) storeShedEvent(txn, meta);
  // Copy into a message of our own so epoch and seq can be set. The builder's first segment is
  // scratch memory that it zeroes again when destroyed.
  capnp::MallocMessageBuilder message(kj::arrayPtr(scratch_.data(), scratch_.size()));
  message.setRoot(event);
  auto root = message.getRoot<schema::Event>();
  root.setEpoch(epoch_);
  root.setReceivedNs(0);
  std::size_t bytes = capnp::computeSerializedSizeInWords(message) * sizeof(capnp::word);
  if (sheddable && meta.bytes + bytes > (admission == Admission::keepOnly ? meta.storageFullAt
                                                                          : sheddableBound(meta))) {
    if (meta.shedCount == 0) meta.shedFirstNs = event.getTimeNs();
    meta.shedLastNs = event.getTimeNs();
    // Counted in source records: a hook.block sheds all its lines.
    meta.shedCount += recordCount(event);
    meta.shedTotal += recordCount(event);
    return;
  }
  root.setSeq(++meta.lastSeq);
  char* out = lmdb::reserve(txn, events_, lmdb::bigEndian(meta.lastSeq), bytes, MDB_APPEND);
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out), bytes));
  capnp::writeMessage(stream, message);
  meta.bytes += bytes;
  ++accepted;
}

void Spool::storeShedEvent(lmdb::Txn& txn, Meta& meta) {
  capnp::MallocMessageBuilder message(64);
  auto event = message.initRoot<schema::Event>();
  event.setTimeNs(clock_.nowNs());
  auto shed = event.getPayload().initSpoolShed();
  shed.setCount(meta.shedCount);
  shed.setFirstNs(meta.shedFirstNs);
  shed.setLastNs(meta.shedLastNs);
  meta.shedCount = 0;
  meta.shedFirstNs = 0;
  meta.shedLastNs = 0;
  std::size_t ignored = 0;
  storeEvent(txn, meta, event.asReader(), Admission::shedRecord, ignored);
}

void Spool::maybeStoreShedEvent(lmdb::Txn& txn, Meta& meta) {
  const std::uint64_t bound = sheddableBound(meta);
  if (meta.shedCount > 0 && meta.bytes < bound - bound / 10) storeShedEvent(txn, meta);
}

template <typename Attempt>
auto Spool::withStorageRetry(Attempt attempt) -> decltype(attempt(Admission::normal, 0)) {
  auto refused = [this](const lmdb::Error& e) { return storageRefused(e); };
  try {
    return attempt(Admission::normal, 0);
  } catch (const lmdb::Error& e) {
    if (!refused(e)) throw;
  }
  // The storage is full: low-value events get a share of the room left, the rest is counted.
  try {
    return attempt(Admission::keepOnly, roomLeft() / 2);
  } catch (const lmdb::Error& e) {
    if (!refused(e)) throw;
  }
  // Only what is never shed.
  try {
    return attempt(Admission::keepOnly, 0);
  } catch (const lmdb::Error& e) {
    if (!refused(e) || !releaseReserve()) throw;
  }
  // Then in the room the reserve held.
  return attempt(Admission::keepOnly, 0);
}

std::uint64_t Spool::roomLeft() {
  // Free space on the filesystem, and the data file's pages past LMDB's last used page (a failed
  // commit's writes), which the next commit writes over.
  std::uint64_t room = 0;
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) == 0)
    room = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  struct stat st {};
  const std::uint64_t used = env_.usedBytes();
  if (::stat(dataFile().c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) > used) {
    room += static_cast<std::uint64_t>(st.st_size) - used;
  }
  return room;
}

std::optional<std::size_t> Spool::appendOnce(std::span<const schema::Event::Reader> events,
                                             Admission admission, std::uint64_t room,
                                             const BatchMark* mark) {
  std::size_t accepted = 0;
  auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
  if (mark != nullptr) {
    // Value: the highest batch stored, then when (both 8-byte big-endian).
    const std::string key = sessionKey(*mark);
    if (auto stored = lmdb::get(txn, sessions_, key);
        stored && stored->size() == 16 && lmdb::readBigEndian(stored->substr(0, 8)) >= mark->batch)
      return std::nullopt;  // the transaction aborts: nothing written
    lmdb::put(
        txn, sessions_, key,
        lmdb::bigEndian(mark->batch) + lmdb::bigEndian(static_cast<std::uint64_t>(clock_.nowNs())));
  }
  Meta meta = loadMeta(txn);
  if (admission == Admission::keepOnly) {
    // storageFullAt is then the bound for low-value events in this call (never 0: that is
    // "not full").
    meta.storageFullAt = std::max<std::uint64_t>(meta.bytes + room, 1);
  } else if (meta.storageFullAt != 0 && storageHasRoom()) {
    meta.storageFullAt = 0;
  }
  maybeStoreShedEvent(txn, meta);
  for (const auto& event : events) storeEvent(txn, meta, event, admission, accepted);
  saveMeta(txn, meta);
  txn.commit();
  return accepted;
}

std::size_t Spool::append(std::span<const schema::Event::Reader> events) {
  return *appendMarked(nullptr, events);
}

std::optional<std::size_t> Spool::appendBatch(const BatchMark& mark,
                                              std::span<const schema::Event::Reader> events) {
  return appendMarked(&mark, events);
}

std::size_t Spool::forgetSessionsBefore(std::int64_t timeNs) {
  std::shared_lock lock(envMutex_);
  auto txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
  std::vector<std::string> stale;
  {
    lmdb::Cursor cursor(txn, sessions_);
    for (bool more = cursor.first(); more; more = cursor.next()) {
      const std::string_view value = cursor.value();
      if (value.size() != 16 ||
          static_cast<std::int64_t>(lmdb::readBigEndian(value.substr(8))) < timeNs)
        stale.emplace_back(cursor.key());
    }
  }
  for (const auto& key : stale) lmdb::del(txn, sessions_, key);
  txn.commit();
  return stale.size();
}

std::optional<std::size_t> Spool::appendMarked(const BatchMark* mark,
                                               std::span<const schema::Event::Reader> events) {
  std::shared_lock lock(envMutex_);
  std::optional<std::size_t> accepted;
  try {
    accepted = withStorageRetry([&](Admission admission, std::uint64_t room) {
      return appendOnce(events, admission, room, mark);
    });
    if (!accepted) return std::nullopt;
  } catch (const lmdb::Error& e) {
    if (storageRefused(e)) {
      throw SpoolFullError(
          "spool " + dir_.string() + " is full (" +
          (e.mapFull() ? "LMDB map of " + std::to_string(env_.mapSize()) + " bytes exhausted"
                       : std::string("its filesystem is full")) +
          " even for events that are never shed, with the reserve used): " + e.what());
    }
    throw std::runtime_error("spool " + dir_.string() + ": append failed: " + e.what());
  }
  announceCommit();
  return accepted;
}

bool Spool::storageRefused(const lmdb::Error& e) const {
  if (e.mapFull() || e.noSpace()) return true;
  // LMDB reports a short write as EIO: what a filesystem that fills up mid-commit causes.
  if (e.code() != EIO) return false;
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) != 0) return false;
  const std::uint64_t freeBytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  return freeBytes < std::max<std::uint64_t>(reserveBytes_, std::uint64_t{1} << 20);
}

bool Spool::reserveHeld() const {
  struct stat st {};
  return ::stat((dir_ / kReserveName).c_str(), &st) == 0 &&
         static_cast<std::uint64_t>(st.st_blocks) * 512 >= reserveBytes_;
}

bool Spool::takeReserve() {
  // Allocated under a name of its own, then renamed: the reserve is whole or absent.
  const auto tmp = dir_ / (std::string(kReserveName) + "." + std::to_string(::getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
  if (fd < 0) return false;
  bool ok = ::posix_fallocate(fd, 0, static_cast<off_t>(reserveBytes_)) == 0;
  ::close(fd);
  if (ok) ok = ::rename(tmp.c_str(), (dir_ / kReserveName).c_str()) == 0;
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

bool Spool::releaseReserve() {
  if (::unlink((dir_ / kReserveName).c_str()) != 0) return false;
  // Best effort: move the room to the end of the data file at once, before anything else on the
  // filesystem takes it.
  int fd = ::open(dataFile().c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
      (void)::fallocate(fd, FALLOC_FL_KEEP_SIZE, st.st_size, static_cast<off_t>(reserveBytes_));
    }
    ::close(fd);
  }
  return true;
}

bool Spool::storageHasRoom() {
  // The storage has room again when the reserve is whole (taken again if need be) and as much
  // again is free beside it.
  if (reserveBytes_ == 0) return false;
  struct statvfs fs {};
  if (::statvfs(dir_.c_str(), &fs) != 0) return false;
  const std::uint64_t freeBytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (reserveHeld()) return freeBytes >= reserveBytes_;
  return freeBytes >= 2 * reserveBytes_ && takeReserve();
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
  // Deleting takes pages too: on a full filesystem the reserve makes room for it.
  return withStorageRetry([&](Admission, std::uint64_t) { return ackOnce(seq); });
}

std::size_t Spool::ackOnce(std::uint64_t seq) {
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
  out.storageFull = meta.storageFullAt != 0;
  out.reserveHeld = reserveBytes_ > 0 && reserveHeld();
  return out;
}

}  // namespace octolaunch::agent
