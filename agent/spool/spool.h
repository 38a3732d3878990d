// The agent's spool: a bounded, durable queue of events on local disk (one LMDB environment in a
// directory), shared by every agent process on the host (the `run` daemon, `hook` wrappers,
// `deploy` markers). Events enter through append() (the EventSink), get their seq there, and leave
// only through ackThrough(), which the shipper calls with a seq the collector acknowledged.
//
// Contract
//  * epoch() is a random 64-bit id created with the spool's meta data; a deleted and recreated
//    spool gets a new one, and startNewEpoch() picks a new one for the spool as it is (a cloned
//    installation). seq starts at 1, is assigned inside the write transaction (so processes
//    appending at once never collide or reorder) and is never reused within the spool; across
//    startNewEpoch() it goes on increasing. Stored events keep the epoch they were appended in:
//    the shipper sends them under the epoch of its session.
//  * append() stores the whole call in one synced write transaction (all or nothing), then touches
//    data.mdb's times so that a watcher (inotify IN_ATTRIB) learns of it. Each stored
//    event is a Cap'n Proto flat array (segment table + segments) of an Event with epoch and seq
//    set; agentId and host are left for the shipper to fill.
//  * Bound: the stored value bytes are kept at or under max_bytes by shedding, when full, the
//    kinds that shared/event/event_kinds.h marks ShedPolicy::whenFull (hook.output, pressure.*);
//    shed events are counted, and one spool.shed event {count, firstNs, lastNs} is stored right
//    before the next event of a kept kind (a hook.exit, a deploy marker), or, when none comes,
//    once the spool is below 90 % of the bound again (on a later append or after an ack).
//    Everything else is never shed, and may take the spool past max_bytes; the LMDB map has
//    headroom (2 * max_bytes + 64 MiB) for it.
//  * Full storage: when a commit is refused (the filesystem is full: ENOSPC, EDQUOT, or EIO for
//    LMDB's short write; or MDB_MAP_FULL), append() tries again at once letting low-value events
//    have half the room left and shedding the rest, then with none, then after releasing the
//    reserve: a file of reserve_bytes in the directory, allocated when the spool is opened and
//    handed to data.mdb when released, so that kept kinds still commit on a full filesystem. The
//    bound for low-value events then stays at what was judged to fit, until the reserve is whole
//    again with as much free beside it. ackThrough() uses the reserve the same way. Only when
//    even that is refused does append() throw SpoolFullError (nothing of the call stored).
//  * The spool is the daemon's alone: the directory is 0700 and its files 0600 (narrowed at open
//    when an older agent left them group-writable). Deploy users hand their records to the daemon
//    (agent/local), never to the spool.
//  * appendBatch() stores a batch handed over by a local user at most once: per (uid, session) the
//    highest batch stored is kept in the same transaction as the events, so a batch that comes
//    again (a lost reply, a queue file imported twice after a crash) is refused, not duplicated.
//    Sessions are remembered until forgetSessionsBefore() drops them.
//
// Threads: one Spool per process (never open the environment twice in one process). Any thread
// may call any method; LMDB serialises writers (across processes too), readers never block.
// The readAfter() callback must not call into the same Spool.
//
// Caveats
//  * Values in LMDB are not 8-byte aligned: readAfter() copies each event into aligned memory that
//    is valid only during the callback.
//  * A crashed reader leaves a stale slot that stops page reuse: readerCheck() now and then.
//  * If the spool directory is deleted and recreated under a running process, that process keeps
//    the old (unlinked) files: replacedOnDisk() tells; the owner should reopen.
//  * The reserve is room on a shared filesystem: between its release and the commit that needs
//    it, another process writing there may take some (the release hands it to data.mdb at once
//    to keep that window short). A spool opened on an already full filesystem has no reserve.
#pragma once

#include <capnp/common.h>
#include <kj/common.h>
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <vector>

#include "shared/event/event_sink.h"
#include "shared/lmdb/lmdb.h"
#include "shared/util/clock.h"

namespace octolaunch::agent {

struct SpoolOptions {
  std::filesystem::path dir;
  std::uint64_t maxBytes = std::uint64_t{256} << 20;
  const Clock* clock = nullptr;  // not owned, must outlive the spool; null = the system clock
  // Room on the spool's filesystem held back (a file "reserve" in the directory) for the events
  // that are never shed, for when the filesystem fills up. 0: none.
  std::uint64_t reserveBytes = std::uint64_t{512} << 10;
};

// Thrown by append() when the storage (filesystem or map) refuses even the events that are never
// shed, with the reserve used.
class SpoolFullError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A batch handed over by a local user (agent/local): who (the kernel's word), which run of `hook`
// or `deploy` (random), and its number within that run (from 1, increasing).
struct BatchMark {
  std::uint32_t uid = 0;
  std::array<std::uint8_t, 16> session{};
  std::uint64_t batch = 0;
};

struct SpoolStats {
  std::uint64_t pendingEvents = 0;  // stored, not yet acknowledged
  std::uint64_t storedBytes = 0;    // bytes of stored values (what max_bytes bounds)
  std::uint64_t lastSeq = 0;        // highest seq assigned in this epoch
  std::uint64_t shedPending = 0;    // shed since the last spool.shed event
  std::uint64_t shedTotal = 0;      // shed since the spool was created
  bool storageFull = false;  // the filesystem or the map refused a commit and has no room yet
  bool reserveHeld = false;  // the reserve file is whole
};

class Spool final : public EventSink {
 public:
  // Opens or creates the spool in options.dir. Throws std::runtime_error with the directory and
  // the reason (e.g. "cannot open spool /var/lib/octolaunch-agent/spool: Permission denied").
  static std::unique_ptr<Spool> open(const SpoolOptions& options);

  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  ~Spool() override;

  // EventSink. Returns how many of `events` were stored (the rest were shed). Throws
  // SpoolFullError when the map is exhausted, std::runtime_error for other storage failures; in
  // both cases nothing of the call was stored.
  std::size_t append(std::span<const schema::Event::Reader> events) override;

  // append() unless (mark.uid, mark.session) already has a batch >= mark.batch stored: then
  // nothing is stored and it returns nullopt. Throws as append() does.
  std::optional<std::size_t> appendBatch(const BatchMark& mark,
                                         std::span<const schema::Event::Reader> events);
  // Forgets the sessions whose last batch was stored before timeNs; returns how many.
  std::size_t forgetSessionsBefore(std::int64_t timeNs);

  // The epoch of the environment open now (it changes only through reopenIfReplaced()).
  std::uint64_t epoch() const {
    std::shared_lock lock(envMutex_);
    return epoch_;
  }

  // Gives the spool a new random epoch (stored events stay, their seqs too) and returns it. Other
  // processes that have the spool open learn it when they open it next.
  std::uint64_t startNewEpoch();

  // Calls fn(seq, words) for up to maxEvents stored events with seq > afterSeq, in seq order.
  // `words` is a flat Cap'n Proto message (readable with capnp::FlatArrayMessageReader), valid only
  // during the call. Returns how many events were visited.
  using ReadFn = std::function<void(std::uint64_t seq, kj::ArrayPtr<const capnp::word> words)>;
  std::size_t readAfter(std::uint64_t afterSeq, std::size_t maxEvents, const ReadFn& fn);

  // Deletes every stored event with seq <= seq. Call it only with a seq the collector
  // acknowledged as committed. Returns how many events were deleted.
  std::size_t ackThrough(std::uint64_t seq);

  std::uint64_t lastSeq();
  std::uint64_t pendingCount();
  SpoolStats stats();

  // The LMDB data file: watch it (inotify IN_ATTRIB, which append() causes after each commit is
  // visible to readers) to learn promptly that the spool grew.
  std::filesystem::path dataFile() const { return dir_ / "data.mdb"; }
  const std::filesystem::path& dir() const { return dir_; }
  // True when data.mdb on disk is no longer the file this Spool has open (the spool was deleted
  // or recreated).
  bool replacedOnDisk() const;
  // When replacedOnDisk(): opens the spool now in the directory (creating it, with a new epoch,
  // when it is gone) and returns true. Waits for calls in progress on other threads. Throws
  // std::runtime_error when the new spool cannot be opened (the old one stays in use).
  bool reopenIfReplaced();
  int readerCheck() { return env_.readerCheck(); }

 private:
  Spool(lmdb::Env env, const SpoolOptions& options);
  static lmdb::Env openEnv(const std::filesystem::path& dir, std::uint64_t maxBytes);
  void attach();  // opens the databases, reads or creates the epoch
  void rememberDataFile();
  void announceCommit() const;
  struct Meta;
  // How an event is let in: by the bound (normal), only if it is never shed (keepOnly: the
  // storage refused a commit), or as the spool's own spool.shed record.
  enum class Admission { normal, keepOnly, shedRecord };
  Meta loadMeta(lmdb::Txn& txn);
  void saveMeta(lmdb::Txn& txn, const Meta& meta);
  std::uint64_t sheddableBound(const Meta& meta) const;
  void maybeStoreShedEvent(lmdb::Txn& txn, Meta& meta);
  void storeShedEvent(lmdb::Txn& txn, Meta& meta);
  void storeEvent(lmdb::Txn& txn, Meta& meta, schema::Event::Reader event, Admission admission,
                  std::size_t& accepted);
  // keepOnly: low-value events may add up to `room` bytes, the rest is shed.
  // nullopt: mark's batch was stored before (nothing written).
  std::optional<std::size_t> appendOnce(std::span<const schema::Event::Reader> events,
                                        Admission admission, std::uint64_t room,
                                        const BatchMark* mark);
  std::optional<std::size_t> appendMarked(const BatchMark* mark,
                                          std::span<const schema::Event::Reader> events);
  std::size_t ackOnce(std::uint64_t seq);
  // ENOSPC, EDQUOT, MDB_MAP_FULL, or EIO (LMDB's word for a short write) on a full filesystem.
  bool storageRefused(const lmdb::Error& e) const;
  // Runs attempt(normal, 0); when the storage refuses the commit (storageRefused()),
  // attempt(keepOnly, half of roomLeft()), then attempt(keepOnly, 0), then releases the
  // reserve and runs that once more.
  template <typename Attempt>
  auto withStorageRetry(Attempt attempt) -> decltype(attempt(Admission::normal, 0));
  std::uint64_t roomLeft();
  bool reserveHeld() const;
  bool takeReserve();     // false when the filesystem has not the room
  bool releaseReserve();  // false when there was no reserve to release
  bool storageHasRoom();  // after a refusal: room again (the reserve taken again if need be)

  // Shared by every call, exclusive while reopenIfReplaced() swaps the environment.
  mutable std::shared_mutex envMutex_;
  lmdb::Env env_;
  std::filesystem::path dir_;
  std::uint64_t maxBytes_;
  std::uint64_t reserveBytes_;
  SystemClock systemClock_;
  const Clock& clock_;
  // First segment for copying an event; used only inside a write transaction (LMDB's writer lock
  // serialises its users). Zero whenever unused, as MallocMessageBuilder requires.
  std::vector<capnp::word> scratch_;
  MDB_dbi events_ = 0;
  MDB_dbi meta_ = 0;
  MDB_dbi sessions_ = 0;  // (uid, session) -> highest batch stored, when
  std::uint64_t epoch_ = 0;
  dev_t dataDev_ = 0;
  ino_t dataIno_ = 0;
};

}  // namespace octolaunch::agent
