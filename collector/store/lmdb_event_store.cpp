#include "collector/store/lmdb_event_store.h"

#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <kj/common.h>
#include <kj/io.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <limits>
#include <map>

#include "collector/store/event_index.h"
#include "collector/store/event_keys.h"
#include "collector/store/event_value.h"
#include "collector/store/store_format.h"
#include "shared/event/event_json.h"
#include "shared/event/hook_block.h"

namespace octolaunch {

namespace keys = store_keys;
using schema::Event;

namespace {

// Appends what capnp writes to a std::string that is reused between events.
class StringOutput final : public kj::OutputStream {
 public:
  void write(const void* buffer, size_t size) override {
    data.append(static_cast<const char*>(buffer), size);
  }
  std::string data;
};

// Bytes available to us on the file system of the environment; nullopt when unknown.
std::optional<std::uint64_t> diskFreeBytes(lmdb::Env& env) {
  const char* path = nullptr;
  struct statvfs fs {};
  if (mdb_env_get_path(env.get(), &path) != 0 || path == nullptr || ::statvfs(path, &fs) != 0) {
    return std::nullopt;
  }
  return std::uint64_t{fs.f_bavail} * fs.f_frsize;
}

[[noreturn]] void rethrowAsStoreError(lmdb::Env& env, const lmdb::Error& e, const char* doing) {
  if (e.mapFull() || e.noSpace()) {
    throw StoreError(StoreError::Kind::full,
                     std::string(doing) + ": store is full (" + e.what() + "); nothing was stored");
  }
  if (e.code() == EIO) {
    // LMDB reports a write that the file system cut short as EIO ("short write, filesystem
    // full?"): with (almost) no space left, that is a full disk, not a failing one.
    auto free = diskFreeBytes(env);
    if (free && *free < kFullDiskBytes) {
      throw StoreError(StoreError::Kind::full, std::string(doing) + ": store is full (disk has " +
                                                   std::to_string(*free) + " bytes free; " +
                                                   e.what() + "); nothing was stored");
    }
  }
  throw StoreError(StoreError::Kind::io, std::string(doing) + ": " + e.what());
}

std::string countKey(char tag, std::string_view value) {
  std::string out(1, tag);
  out.append(value);
  return out;
}

std::string_view view(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

// Throws std::invalid_argument when the batch breaks commitBatches' preconditions (our bug).
void checkPreconditions(const IngestBatch& batch) {
  std::uint64_t previousSeq = 0;
  for (Event::Reader event : batch.events) {
    const bool ownAgent =
        event.getAgentId().size() == 0 || view(event.getAgentId()) == batch.agentId;
    const bool ownEpoch = event.getEpoch() == 0 || event.getEpoch() == batch.epoch;
    if (!ownAgent || !ownEpoch || event.getSeq() <= previousSeq) {
      throw std::invalid_argument(
          "commitBatches: batch breaks its preconditions (agent, epoch or seq order)");
    }
    previousSeq = event.getSeq();
  }
  std::uint32_t previousIndex = 0;
  for (std::size_t i = 0; i < batch.quarantine.size(); ++i) {
    const std::uint32_t index = batch.quarantine[i].index;
    if (index >= batch.events.size() || (i > 0 && index <= previousIndex)) {
      throw std::invalid_argument("commitBatches: quarantine indexes not increasing or in range");
    }
    previousIndex = index;
  }
  if (!batch.encoded.empty() && batch.encoded.size() != batch.events.size()) {
    throw std::invalid_argument("commitBatches: encoded values do not match the events");
  }
}

}  // namespace

void withEvent(std::string_view packedBytes, const std::function<void(Event::Reader)>& fn) {
  // Unpack into a per-thread buffer: a stored event is a few hundred bytes, and a scan unpacks
  // thousands, so a heap allocation per event would cost more than the unpacking. A nested call
  // (fn reading another event) or a larger message gets the reader's own allocation.
  constexpr std::size_t kScratchWords = 1024;
  thread_local capnp::word scratch[kScratchWords];
  thread_local bool scratchInUse = false;
  kj::ArrayInputStream in(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(packedBytes.data()), packedBytes.size()));
  const bool useScratch = !scratchInUse;
  kj::ArrayPtr<capnp::word> space = useScratch ? kj::arrayPtr(scratch, kScratchWords) : nullptr;
  capnp::PackedMessageReader reader(in, capnp::ReaderOptions(), space);
  if (useScratch) scratchInUse = true;
  KJ_DEFER(if (useScratch) scratchInUse = false);
  fn(reader.getRoot<Event>());
}

LmdbEventStore::LmdbEventStore(lmdb::Env& env, const Clock& clock) : env_(env), clock_(clock) {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
    dbs_.events = lmdb::openDbi(txn, "events");
    dbs_.byTime = lmdb::openDbi(txn, "idx_time");
    dbs_.byRelease = lmdb::openDbi(txn, "idx_release");
    dbs_.byHost = lmdb::openDbi(txn, "idx_host");
    dbs_.byKind = lmdb::openDbi(txn, "idx_kind");
    dbs_.marks = lmdb::openDbi(txn, "marks");
    dbs_.agents = lmdb::openDbi(txn, "agents");
    dbs_.clocks = lmdb::openDbi(txn, "clocks");
    dbs_.counts = lmdb::openDbi(txn, "counts");
    dbs_.quarantine = lmdb::openDbi(txn, "quarantine");
    const MDB_dbi meta = openMetaDbi(txn);
    if (auto format = recordedStoreFormat(txn, meta)) {
      refuseNewerFormat(*format);
    } else if (!lmdb::Cursor(txn, dbs_.events).first()) {
      recordStoreFormat(txn, meta, kStoreFormat);  // a new store is born in the current format
    }
    txn.commit();
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "opening the event store");
  }
}

std::vector<BatchResult> LmdbEventStore::commitBatches(std::span<const IngestBatch> batches) {
  std::vector<BatchResult> results(batches.size());
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
    commitInTxn(txn, batches, results);
    txn.commit();
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "committing events");
  }
  return results;
}

void LmdbEventStore::commitInTxn(lmdb::Txn& txn, std::span<const IngestBatch> batches,
                                 std::vector<BatchResult>& results) {
  std::uint64_t nextId = 1;
  {
    lmdb::Cursor last(txn, dbs_.events);
    if (last.last()) nextId = lmdb::readBigEndian(last.key()) + 1;
  }
  const std::int64_t receivedNs = clock_.nowNs();
  std::map<std::string, std::uint64_t> countDeltas;
  std::string tagged;  // idx_release value

  for (const IngestBatch& batch : batches) checkPreconditions(batch);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const IngestBatch& batch = batches[b];
    BatchResult& result = results[b];
    const std::string markKey = keys::markKey(batch.agentId, batch.epoch);
    keys::Mark mark;
    if (auto existing = lmdb::get(txn, dbs_.marks, markKey)) mark = keys::decodeMark(*existing);
    result.committedThroughSeq = mark.lastSeq;
    if (batch.events.size() > 0) {
      const std::uint64_t continuesFrom = batch.previousSeq.value_or(batch.events[0].getSeq() - 1);
      if (continuesFrom > mark.lastSeq) {  // an earlier batch is missing: never pass it
        result.outcome = BatchResult::Outcome::gap;
        continue;
      }
    }

    std::size_t nextNote = 0;
    for (unsigned i = 0; i < batch.events.size(); ++i) {
      Event::Reader event = batch.events[i];
      const std::uint64_t seq = event.getSeq();
      const QuarantineNote* note = nullptr;
      if (nextNote < batch.quarantine.size() && batch.quarantine[nextNote].index == i) {
        note = &batch.quarantine[nextNote++];
      }
      if (seq <= mark.lastSeq) {
        ++result.skipped;
        continue;
      }
      mark.lastSeq = seq;
      if (note != nullptr) {  // kept as received: no receive time stamped into it
        lmdb::put(
            txn, dbs_.quarantine, keys::quarantineKey(batch.agentId, batch.epoch, seq),
            keys::encodeQuarantineValue(receivedNs, note->reason, encoder_.packAsReceived(event)));
        ++countDeltas["q"];
        ++result.quarantined;
        continue;
      }
      const std::uint64_t id = nextId++;
      const std::int64_t timeNs = event.getTimeNs();

      lmdb::put(txn, dbs_.events, lmdb::bigEndian(id),
                batch.encoded.empty() ? encoder_.encode(event, batch, receivedNs)
                                      : std::string_view(batch.encoded[i]),
                MDB_APPEND);

      const EventIndexEntries entries = indexEntriesOf(event, batch.host);
      lmdb::put(txn, dbs_.byTime, keys::position(timeNs, id), entries.tagged);
      lmdb::put(txn, dbs_.byKind, keys::indexKey(keys::indexPrefix(entries.kind), timeNs, id),
                entries.tagged);
      ++countDeltas[countKey('k', entries.kind)];
      lmdb::put(txn, dbs_.byHost, keys::indexKey(keys::indexPrefix(entries.host), timeNs, id),
                entries.tagged);
      ++countDeltas[countKey('h', entries.host)];
      if (!entries.release.empty()) {
        tagged.assign(entries.tagged);
        tagged.append(entries.host);
        lmdb::put(txn, dbs_.byRelease,
                  keys::indexKey(keys::indexPrefix(entries.release), timeNs, id), tagged);
        ++countDeltas[countKey('r', entries.release)];
      }
      const std::uint64_t records = recordCount(event);
      mark.stored += records;
      result.records += records;
      ++result.stored;
    }
    mark.lastSeenNs = receivedNs;
    lmdb::put(txn, dbs_.marks, markKey, keys::encodeMark(mark));
    lmdb::put(
        txn, dbs_.agents, batch.agentId,
        keys::encodeAgent(
            {.epoch = batch.epoch, .lastSeenNs = receivedNs, .host = std::string(batch.host)}));
    if (batch.clock) {
      ClockSample sample = *batch.clock;
      sample.receivedNs = receivedNs;
      keepClock(txn, batch.agentId, sample);
    }
    result.committedThroughSeq = mark.lastSeq;
  }
  for (const auto& [countKeyBytes, delta] : countDeltas) {
    std::uint64_t count = 0;
    if (auto existing = lmdb::get(txn, dbs_.counts, countKeyBytes)) {
      count = lmdb::readBigEndian(*existing);
    }
    lmdb::put(txn, dbs_.counts, countKeyBytes, lmdb::bigEndian(count + delta));
  }
}

void LmdbEventStore::keepClock(lmdb::Txn& txn, std::string_view agentId,
                               const ClockSample& sample) {
  if (auto existing = lmdb::get(txn, dbs_.clocks, agentId)) {
    if (auto kept = keys::decodeClock(*existing)) {
      const bool recent = sample.receivedNs - kept->receivedNs < kClockSampleKeepNs;
      if (recent && kept->roundTripNs < sample.roundTripNs) return;
    }
  }
  lmdb::put(txn, dbs_.clocks, agentId,
            keys::encodeClock({sample.offsetNs, sample.roundTripNs, sample.receivedNs}));
}

std::uint64_t LmdbEventStore::highWater(std::string_view agentId, std::uint64_t epoch) {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    auto value = lmdb::get(txn, dbs_.marks, keys::markKey(agentId, epoch));
    return value ? keys::decodeMark(*value).lastSeq : 0;
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "reading a high-water mark");
  }
}

void LmdbEventStore::scan(lmdb::Txn& txn, const EventQuery& query, const RecordVisit& visit,
                          bool readerNeeded) {
  // The most selective index among the filters given, by the number of events under its prefix.
  struct Choice {
    MDB_dbi dbi;
    char tag;
    const std::string* value;
  };
  std::optional<Choice> chosen;
  std::uint64_t best = std::numeric_limits<std::uint64_t>::max();
  for (Choice c : {Choice{dbs_.byRelease, 'r', &query.release},
                   Choice{dbs_.byHost, 'h', &query.host}, Choice{dbs_.byKind, 'k', &query.kind}}) {
    if (c.value->empty()) continue;
    auto count = lmdb::get(txn, dbs_.counts, countKey(c.tag, *c.value));
    if (!count) return;  // nothing has ever been stored under this value
    const std::uint64_t n = lmdb::readBigEndian(*count);
    if (n < best) {
      best = n;
      chosen = c;
    }
  }
  const MDB_dbi dbi = chosen ? chosen->dbi : dbs_.byTime;
  const std::string prefix = chosen ? keys::indexPrefix(*chosen->value) : std::string();
  const bool needRelease = !query.release.empty() && !(chosen && chosen->tag == 'r');
  const bool needHost = !query.host.empty() && !(chosen && chosen->tag == 'h');
  const bool needKind = !query.kind.empty() && !(chosen && chosen->tag == 'k');
  const bool needDecode = needRelease || needHost || needKind;
  const bool skipStdout = query.skipHookStdout && chosen && chosen->tag == 'r';
  const bool skipReleased = query.skipWithRelease && chosen && chosen->tag == 'h';

  // Where a cursor left off: a position, and inside a block the part last returned.
  std::string after;
  std::optional<std::uint32_t> afterPart;
  if (!query.cursor.empty()) {
    auto bytes = keys::decodeCursor(query.cursor);
    if (!bytes) throw StoreError(StoreError::Kind::badCursor, "malformed cursor");
    after = prefix + bytes->substr(0, keys::kPositionSize);
    if (bytes->size() > keys::kPositionSize) {
      afterPart = lmdb::readBigEndian32(std::string_view(*bytes).substr(keys::kPositionSize));
    }
  }
  // Each record is filtered by its own time; a block whose first line is before `since` may hold
  // later lines, so the scan starts one block span earlier.
  const std::int64_t sinceNs = query.sinceNs.value_or(std::numeric_limits<std::int64_t>::min());
  const std::int64_t untilNs = query.untilNs.value_or(std::numeric_limits<std::int64_t>::max());
  const std::int64_t seekNs = sinceNs < std::numeric_limits<std::int64_t>::min() + kMaxBlockSpanNs
                                  ? std::numeric_limits<std::int64_t>::min()
                                  : sinceNs - kMaxBlockSpanNs;
  std::string sinceKey = prefix + keys::position(seekNs, 0);
  std::optional<std::string> endKey;
  if (query.untilNs) endKey = prefix + keys::position(*query.untilNs, 0);
  auto inRange = [&](std::int64_t t) { return t >= sinceNs && t < untilNs; };

  EventValueCodec& codec = EventValueCodec::forThisThread();
  BlockLines lines;  // per scan: a visit may start another scan on this thread
  lmdb::Cursor cursor(txn, dbi);
  bool ok = false;
  if (query.newestFirst) {
    // From the last key at or below the upper bound: the cursor's position (taken again when the
    // cursor is inside a block), until, or past every position under the prefix.
    std::string upper = endKey ? *endKey : prefix + std::string(keys::kPositionSize + 1, '\xff');
    if (!after.empty() && after < upper) upper = afterPart ? after + '\0' : after;
    ok = cursor.seek(upper) ? cursor.prev() : cursor.last();
  } else {
    const std::string start = after.empty() || sinceKey > after ? sinceKey : after;
    ok = cursor.seek(start);
  }
  for (; ok; ok = query.newestFirst ? cursor.prev() : cursor.next()) {
    std::string_view k = cursor.key();
    if (k.size() != prefix.size() + keys::kPositionSize || k.substr(0, prefix.size()) != prefix) {
      break;
    }
    if (endKey && k >= *endKey) break;
    if (query.newestFirst && k < sinceKey) break;
    const bool atCursor = k == after;
    if (atCursor && !afterPart) continue;
    std::string_view position = k.substr(prefix.size());
    const std::int64_t timeNs = keys::timeFromKey(lmdb::readBigEndian(position.substr(0, 8)));
    if (skipStdout || skipReleased) {
      std::string_view tags = cursor.value();
      const auto t = tags.empty() ? 0u : static_cast<unsigned char>(tags[0]);
      if (skipReleased && (t & keys::kTagHasRelease)) continue;
      if (skipStdout && (t & keys::kTagHookStdout)) {
        std::int64_t lastNs = timeNs;
        std::string_view host = tags.substr(1);
        if (t & keys::kTagBlockSpan) {
          lastNs += lmdb::readBigEndian32(host);
          host.remove_prefix(std::min<std::size_t>(4, host.size()));
        }
        if (query.onSkippedHookStdout && (inRange(timeNs) || inRange(lastNs))) {
          query.onSkippedHookStdout(timeNs, host);
          if (lastNs != timeNs) query.onSkippedHookStdout(lastNs, host);
        }
        continue;
      }
    }
    const std::uint64_t id = lmdb::readBigEndian(position.substr(8));
    const bool bytesSuffice = !readerNeeded && !needDecode && taggedAsSingleEvent(cursor.value());
    if (bytesSuffice && !inRange(timeNs)) continue;  // a single event's time is its position's
    auto stored = lmdb::get(txn, dbs_.events, lmdb::bigEndian(id));
    if (!stored) continue;  // index without event: cannot happen within one transaction
    const std::string_view bytes = codec.decode(*stored);
    if (bytesSuffice) {
      if (!visit(position, std::nullopt, Event::Reader(), bytes)) break;
      continue;
    }
    bool more = true;
    withEvent(bytes, [&](Event::Reader e) {
      if (needDecode) {
        if (needRelease && view(e.getRelease()) != query.release) return;
        if (needHost && view(e.getHost()) != query.host) return;
        if (needKind && storedKindName(e) != query.kind) return;
      }
      if (!e.getPayload().isHookBlock()) {
        if (inRange(e.getTimeNs())) more = visit(position, std::nullopt, e, bytes);
        return;
      }
      // A block's lines, in the query's order, after the cursor's part when resuming in it.
      auto visitLine = [&](std::uint32_t part, Event::Reader line) {
        if (inRange(line.getTimeNs())) more = visit(position, part, line, {});
        return more;
      };
      if (query.newestFirst) {
        lines.forEachLineBackwards(
            e, atCursor ? *afterPart : std::numeric_limits<std::uint32_t>::max(), visitLine);
      } else {
        lines.forEachLine(e, atCursor ? *afterPart + 1 : 0, visitLine);
      }
    });
    if (!more) break;
  }
}

EventPage LmdbEventStore::query(const EventQuery& query) {
  EventPage page;
  const std::size_t limit = query.limit == 0 ? 1 : query.limit;
  std::string lastPosition;
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    StringOutput packed;
    scan(
        txn, query,
        [&](std::string_view position, std::optional<std::uint32_t> part, Event::Reader event,
            std::string_view bytes) {
          if (page.events.size() == limit) {  // one more match exists: there is a next page
            page.nextCursor = keys::encodeCursor(lastPosition);
            return false;
          }
          if (part) {  // a line of a block: its own message
            capnp::MallocMessageBuilder line(event.totalSize().wordCount + 8);
            line.setRoot(event);
            packed.data.clear();
            capnp::writePackedMessage(packed, line);
            bytes = packed.data;
          }
          page.events.push_back({lmdb::readBigEndian(position.substr(8)), std::string(bytes)});
          lastPosition.assign(position);
          if (part) lastPosition.append(lmdb::bigEndian32(*part));
          return true;
        },
        /*readerNeeded=*/false);
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "querying events");
  }
  return page;
}

void LmdbEventStore::forEachEvent(const EventQuery& query,
                                  const std::function<bool(Event::Reader)>& fn) {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    scan(txn, query,
         [&](std::string_view, std::optional<std::uint32_t>, Event::Reader event,
             std::string_view) { return fn(event); });
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "reading events");
  }
}

namespace {
// What the indexes of an event hold besides its position (see commitInTxn).
struct IndexedFacts {
  std::string host, release, kind;
  bool hookStdout = false;
  bool operator==(const IndexedFacts&) const = default;
};

IndexedFacts indexedFacts(Event::Reader e) {
  return {std::string(view(e.getHost())), std::string(view(e.getRelease())),
          std::string(storedKindName(e)), onlyHookStdout(e)};
}
}  // namespace

RewriteStep LmdbEventStore::rewriteRelease(std::string_view release, std::string_view resumeAfter,
                                           std::size_t maxEvents, const EventRewrite& rewrite) {
  RewriteStep step;
  const std::string prefix = keys::indexPrefix(release);
  const std::string after = resumeAfter.empty() ? std::string() : prefix + std::string(resumeAfter);
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
    std::vector<std::string> positions;  // read first: the writes below must not move the cursor
    {
      lmdb::Cursor cursor(txn, dbs_.byRelease);
      for (bool ok = cursor.seek(after.empty() ? prefix : after);
           ok && positions.size() < maxEvents; ok = cursor.next()) {
        std::string_view k = cursor.key();
        if (k.size() != prefix.size() + keys::kPositionSize || !k.starts_with(prefix)) break;
        if (k == after) continue;
        positions.emplace_back(k.substr(prefix.size()));
      }
    }
    for (const std::string& position : positions) {
      const std::string id = std::string(std::string_view(position).substr(8));
      auto stored = lmdb::get(txn, dbs_.events, id);
      if (!stored) continue;  // index without event: cannot happen within one transaction
      ++step.examined;
      std::optional<std::string> replaced;
      IndexedFacts before;
      std::optional<std::uint32_t> span;
      withEvent(codec_.decode(*stored), [&](Event::Reader e) {
        before = indexedFacts(e);
        span = blockSpan(e);
        replaced = rewrite(e);
      });
      if (!replaced) continue;
      withEvent(*replaced, [&](Event::Reader e) {
        if (!(indexedFacts(e) == before) || blockSpan(e) != span) {
          throw std::invalid_argument("rewriting an event changed what its indexes hold");
        }
      });
      lmdb::put(txn, dbs_.events, id, codec_.encode(*replaced));
      ++step.rewritten;
    }
    if (positions.size() == maxEvents) step.resumeAfter = positions.back();
    txn.commit();
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "rewriting events");
  }
  return step;
}

ExpireStep LmdbEventStore::expireOldest(std::int64_t beforeNs, std::string_view resumeAfter,
                                        std::size_t maxEvents, const EventKeep& keep) {
  if (maxEvents == 0) throw std::invalid_argument("expireOldest: maxEvents must be at least 1");
  if (!resumeAfter.empty() && resumeAfter.size() != keys::kPositionSize) {
    throw std::invalid_argument("expireOldest: resumeAfter is not an index position");
  }
  ExpireStep step;
  const std::string end = keys::position(beforeNs, 0);
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::write);
    std::vector<std::string> positions;  // read first: the deletes below must not move the cursor
    {
      lmdb::Cursor cursor(txn, dbs_.byTime);
      for (bool ok = resumeAfter.empty() ? cursor.first() : cursor.seek(resumeAfter);
           ok && positions.size() < maxEvents; ok = cursor.next()) {
        std::string_view k = cursor.key();
        if (k >= end) break;
        if (k == resumeAfter) continue;
        positions.emplace_back(k);
      }
    }
    std::map<std::string, std::uint64_t> countDrops;
    for (const std::string& position : positions) {
      const std::string id = position.substr(8);
      const std::int64_t timeNs =
          keys::timeFromKey(lmdb::readBigEndian(std::string_view(position).substr(0, 8)));
      auto stored = lmdb::get(txn, dbs_.events, id);
      ++step.examined;
      if (!stored) {  // an index entry without its event (damage): the entry goes
        lmdb::del(txn, dbs_.byTime, position);
        continue;
      }
      bool kept = false;
      withEvent(codec_.decode(*stored), [&](Event::Reader e) {
        if (keep && keep(e)) {
          kept = true;
          return;
        }
        const EventIndexEntries entries = indexEntriesOf(e, {});
        lmdb::del(txn, dbs_.byKind,
                  keys::indexKey(keys::indexPrefix(entries.kind), timeNs, lmdb::readBigEndian(id)));
        ++countDrops[countKey('k', entries.kind)];
        lmdb::del(txn, dbs_.byHost,
                  keys::indexKey(keys::indexPrefix(entries.host), timeNs, lmdb::readBigEndian(id)));
        ++countDrops[countKey('h', entries.host)];
        if (!entries.release.empty()) {
          lmdb::del(
              txn, dbs_.byRelease,
              keys::indexKey(keys::indexPrefix(entries.release), timeNs, lmdb::readBigEndian(id)));
          ++countDrops[countKey('r', entries.release)];
        }
        step.records += recordCount(e);
      });
      if (kept) {
        ++step.kept;
        continue;
      }
      lmdb::del(txn, dbs_.byTime, position);
      lmdb::del(txn, dbs_.events, id);
      ++step.deleted;
    }
    for (const auto& [countKeyBytes, drop] : countDrops) {
      auto existing = lmdb::get(txn, dbs_.counts, countKeyBytes);
      const std::uint64_t count = existing ? lmdb::readBigEndian(*existing) : 0;
      if (count <= drop) {
        lmdb::del(txn, dbs_.counts, countKeyBytes);
      } else {
        lmdb::put(txn, dbs_.counts, countKeyBytes, lmdb::bigEndian(count - drop));
      }
    }
    if (positions.size() == maxEvents) step.resumeAfter = positions.back();
    txn.commit();
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "removing expired events");
  }
  return step;
}

std::optional<std::int64_t> LmdbEventStore::oldestEventNs() {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    lmdb::Cursor cursor(txn, dbs_.byTime);
    if (!cursor.first()) return std::nullopt;
    return keys::timeFromKey(lmdb::readBigEndian(cursor.key().substr(0, 8)));
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "reading the oldest event's time");
  }
}

std::vector<HostInfo> LmdbEventStore::hosts() {
  std::vector<HostInfo> out;
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    lmdb::Cursor cursor(txn, dbs_.agents);
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      keys::AgentState agent = keys::decodeAgent(cursor.value());
      HostInfo info{.agentId = std::string(cursor.key()),
                    .host = agent.host,
                    .epoch = agent.epoch,
                    .lastSeenNs = agent.lastSeenNs};
      if (auto mark = lmdb::get(txn, dbs_.marks, keys::markKey(info.agentId, agent.epoch))) {
        keys::Mark m = keys::decodeMark(*mark);
        info.lastSeq = m.lastSeq;
        info.eventsStored = m.stored;
      }
      if (auto bytes = lmdb::get(txn, dbs_.clocks, info.agentId)) {
        if (auto c = keys::decodeClock(*bytes))
          info.clock = ClockSample{c->offsetNs, c->roundTripNs, c->receivedNs};
      }
      out.push_back(std::move(info));
    }
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "listing hosts");
  }
  return out;
}

std::vector<QuarantinedEvent> LmdbEventStore::quarantined(std::size_t limit) {
  std::vector<QuarantinedEvent> out;
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    lmdb::Cursor cursor(txn, dbs_.quarantine);
    for (bool ok = cursor.first(); ok && out.size() < limit; ok = cursor.next()) {
      auto entry = keys::decodeQuarantine(cursor.key(), cursor.value());
      if (!entry) continue;  // cannot happen: only commitInTxn writes this table
      out.push_back({.agentId = std::move(entry->agentId),
                     .epoch = entry->epoch,
                     .seq = entry->seq,
                     .receivedNs = entry->receivedNs,
                     .reason = std::move(entry->reason),
                     .bytes = std::move(entry->packed)});
    }
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "listing quarantined events");
  }
  return out;
}

std::uint64_t LmdbEventStore::quarantinedCount() {
  try {
    lmdb::Txn txn = lmdb::Txn::begin(env_, lmdb::Txn::Mode::read);
    auto count = lmdb::get(txn, dbs_.counts, "q");
    return count ? lmdb::readBigEndian(*count) : 0;
  } catch (const lmdb::Error& e) {
    rethrowAsStoreError(env_, e, "counting quarantined events");
  }
}

}  // namespace octolaunch
