#include "collector/store/store_check.h"

#include <kj/exception.h>

#include <optional>
#include <string_view>

#include "collector/store/event_index.h"
#include "collector/store/event_keys.h"
#include "collector/store/event_store.h"
#include "collector/store/event_value.h"
#include "collector/store/store_format.h"
#include "shared/event/hook_block.h"

namespace octolaunch {

namespace keys = store_keys;
using schema::Event;

namespace {

constexpr std::size_t kCheckProgressEvery = 4096;

// The four index databases, in the order checkStore() walks them.
enum IndexSlot : std::size_t { kByTime, kByKind, kByHost, kByRelease, kIndexSlots };
constexpr const char* kIndexDbNames[kIndexSlots] = {"idx_time", "idx_kind", "idx_host",
                                                    "idx_release"};
constexpr const char* kIndexPrefixWords[kIndexSlots] = {"", "kind", "host", "release"};
constexpr char kCountTags[kIndexSlots] = {0, 'k', 'h', 'r'};

// What checking and repairing need of one stored event, copied out of its message.
struct StoredEventFacts {
  std::string agentId;
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  bool block = false;
  std::uint64_t lines = 0;
  std::int64_t timeNs = 0;
  std::string prefixes[kIndexSlots];  // the prefix value per index; release empty: no entry
  std::string tagged;                 // the value in idx_time, idx_kind, idx_host
  std::string releaseValue;           // the value in idx_release

  std::optional<std::string> keyIn(std::size_t slot, std::uint64_t id) const {
    if (slot == kByTime) return keys::position(timeNs, id);
    if (slot == kByRelease && prefixes[kByRelease].empty()) return std::nullopt;
    return keys::indexKey(keys::indexPrefix(prefixes[slot]), timeNs, id);
  }
  const std::string& valueIn(std::size_t slot) const {
    return slot == kByRelease ? releaseValue : tagged;
  }
};

// Decodes an events value completely: zstd, the packed message, every pointer in it, every line
// of a block. Returns what is wrong, or nullopt with `facts` filled.
std::optional<std::string> decodeStoredEvent(EventValueCodec& codec, BlockLines& lines,
                                             std::string_view value, StoredEventFacts& facts) {
  try {
    withEvent(codec.decode(value), [&](Event::Reader e) {
      (void)e.totalSize();  // follows every pointer, bounds-checked
      facts.agentId.assign(e.getAgentId().cStr(), e.getAgentId().size());
      facts.epoch = e.getEpoch();
      facts.seq = e.getSeq();
      facts.block = e.getPayload().isHookBlock();
      facts.lines = 0;
      if (facts.block) {
        lines.forEachLine(e, 0, [&](std::uint32_t, Event::Reader line) {
          (void)line.totalSize();
          ++facts.lines;
          return true;
        });
      }
      // The stored event carries its session's host (the store wrote it there).
      const EventIndexEntries entries = indexEntriesOf(e, {});
      facts.timeNs = entries.timeNs;
      facts.prefixes[kByTime].clear();
      facts.prefixes[kByKind].assign(entries.kind);
      facts.prefixes[kByHost].assign(entries.host);
      facts.prefixes[kByRelease].assign(entries.release);
      facts.tagged = entries.tagged;
      facts.releaseValue = entries.tagged;
      facts.releaseValue.append(entries.host);
    });
    return std::nullopt;
  } catch (const StoreError& e) {
    return std::string(e.what());
  } catch (const kj::Exception& e) {
    return "Cap'n Proto: " + std::string(e.getDescription().cStr());
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

// Bytes as text a finding can show: printable ASCII as it is, anything else as \xNN.
std::string printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string hexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out.empty() ? "(empty)" : out;
}

// An index key taken apart (layouts in event_keys.h); nullopt when it has none of them.
struct ParsedIndexKey {
  std::string_view prefix;  // the value, without its \0; empty for idx_time
  std::int64_t timeNs = 0;
  std::uint64_t id = 0;
};

std::optional<ParsedIndexKey> parseIndexKey(std::size_t slot, std::string_view key) {
  std::size_t prefixSize = 0;
  if (slot == kByTime) {
    if (key.size() != keys::kPositionSize) return std::nullopt;
  } else {
    if (key.size() < keys::kPositionSize + 1 || key[key.size() - keys::kPositionSize - 1] != '\0')
      return std::nullopt;
    prefixSize = key.size() - keys::kPositionSize;
  }
  const std::string_view position = key.substr(prefixSize);
  ParsedIndexKey out;
  out.prefix = key.substr(0, prefixSize == 0 ? 0 : prefixSize - 1);
  out.timeNs = keys::timeFromKey(lmdb::readBigEndian(position.substr(0, 8)));
  out.id = lmdb::readBigEndian(position.substr(8));
  return out;
}

// "idx_release release r2 time 1700000000000001000 id 42"
std::string describeIndexKey(std::size_t slot, std::string_view key) {
  auto parsed = parseIndexKey(slot, key);
  if (!parsed) return std::string(kIndexDbNames[slot]) + " key " + hexOf(key);
  std::string out = kIndexDbNames[slot];
  if (slot != kByTime)
    out += std::string(" ") + kIndexPrefixWords[slot] + " " + printable(parsed->prefix);
  return out + " time " + std::to_string(parsed->timeNs) + " id " + std::to_string(parsed->id);
}

std::string describeEvent(std::uint64_t id, const StoredEventFacts& facts) {
  return "event id " + std::to_string(id) + " (agent " + printable(facts.agentId) + ", epoch " +
         std::to_string(facts.epoch) + ", seq " + std::to_string(facts.seq) + ")";
}

std::optional<MDB_dbi> openIfPresent(lmdb::Txn& txn, const char* name) {
  MDB_dbi dbi = 0;
  const int rc = mdb_dbi_open(txn.get(), name, 0, &dbi);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  lmdb::check(rc, name);
  return dbi;
}

std::uint64_t entriesOf(lmdb::Txn& txn, std::optional<MDB_dbi> dbi) {
  if (!dbi) return 0;
  MDB_stat stat{};
  lmdb::check(mdb_stat(txn.get(), *dbi, &stat), "mdb_stat");
  return stat.ms_entries;
}

std::optional<std::string_view> getIfPresent(lmdb::Txn& txn, std::optional<MDB_dbi> dbi,
                                             std::string_view key) {
  if (!dbi) return std::nullopt;
  return lmdb::get(txn, *dbi, key);
}

struct CheckDbis {
  std::optional<MDB_dbi> meta, events, marks, counts, quarantine;
  std::optional<MDB_dbi> index[kIndexSlots];
};

CheckDbis openCheckDbis(lmdb::Txn& txn) {
  CheckDbis dbs;
  dbs.meta = openIfPresent(txn, "meta");
  dbs.events = openIfPresent(txn, "events");
  dbs.marks = openIfPresent(txn, "marks");
  dbs.counts = openIfPresent(txn, "counts");
  dbs.quarantine = openIfPresent(txn, "quarantine");
  for (std::size_t s = 0; s < kIndexSlots; ++s) dbs.index[s] = openIfPresent(txn, kIndexDbNames[s]);
  return dbs;
}

// The format the store has; throws StoreError for one this build cannot check.
std::uint32_t checkableFormat(lmdb::Txn& txn, const CheckDbis& dbs) {
  std::optional<std::uint32_t> recorded;
  if (dbs.meta) recorded = recordedStoreFormat(txn, *dbs.meta);
  if (!recorded && entriesOf(txn, dbs.events) == 0) return 0;  // empty; the next start records it
  const std::uint32_t format = recorded.value_or(1);
  refuseNewerFormat(format);
  const bool migrating = dbs.meta && lmdb::get(txn, *dbs.meta, "migrated_after").has_value();
  if (format < kStoreFormat || migrating) {
    throw StoreError(StoreError::Kind::io,
                     "the store has format " + std::to_string(format) +
                         (migrating ? " (a migration not finished)" : "") +
                         ", older than this collector's format " + std::to_string(kStoreFormat) +
                         ": run `octolaunch-collector migrate` on it first, then check it");
  }
  return format;
}

// Keeps the findings of one check.
class Findings {
 public:
  Findings(StoreCheckReport& report, std::size_t listed) : report_(report), listed_(listed) {}
  void add(StoreDamage kind, const std::function<std::string()>& text) {
    ++report_.damage[static_cast<std::size_t>(kind)];
    if (report_.findings.size() < listed_) report_.findings.push_back({kind, text()});
  }

 private:
  StoreCheckReport& report_;
  std::size_t listed_;
};

// The high-water marks the check has looked up, by mark key: nullopt when there is none.
class MarkCache {
 public:
  MarkCache(lmdb::Txn& txn, std::optional<MDB_dbi> marks) : txn_(txn), marks_(marks) {}
  std::optional<std::uint64_t> lastSeq(std::string_view agentId, std::uint64_t epoch) {
    std::string key = keys::markKey(agentId, epoch);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      std::optional<std::uint64_t> seq;
      auto value = getIfPresent(txn_, marks_, key);
      if (value && value->size() >= 24) seq = keys::decodeMark(*value).lastSeq;
      it = cache_.emplace(std::move(key), seq).first;
    }
    return it->second;
  }

 private:
  lmdb::Txn& txn_;
  std::optional<MDB_dbi> marks_;
  std::map<std::string, std::optional<std::uint64_t>> cache_;
};

// `what` names the event in a finding (built only for one).
void checkAgainstMark(MarkCache& marks, Findings& findings, std::string_view agentId,
                      std::uint64_t epoch, std::uint64_t seq,
                      const std::function<std::string()>& what) {
  const std::optional<std::uint64_t> last = marks.lastSeq(agentId, epoch);
  if (!last) {
    findings.add(StoreDamage::markMissing, [&]() {
      return what() + " has no high-water mark (marks has nothing for agent " + printable(agentId) +
             ", epoch " + std::to_string(epoch) + ")";
    });
  } else if (seq > *last) {
    findings.add(StoreDamage::eventAboveMark, [&]() {
      return what() + " is above its high-water mark " + std::to_string(*last);
    });
  }
}

// Counts index entries per count key ('k'|'h'|'r' + prefix) from sorted keys: runs of one prefix.
class PrefixCounter {
 public:
  void add(char tag, std::string_view prefix) {
    if (!run_.empty() && run_[0] == tag && std::string_view(run_).substr(1) == prefix) {
      ++runLength_;
      return;
    }
    flush();
    run_.assign(1, tag);
    run_.append(prefix);
    runLength_ = 1;
  }
  std::map<std::string, std::uint64_t>& finish() {
    flush();
    return counts_;
  }

 private:
  void flush() {
    if (runLength_ > 0) counts_[run_] += runLength_;
    runLength_ = 0;
  }
  std::string run_;
  std::uint64_t runLength_ = 0;
  std::map<std::string, std::uint64_t> counts_;
};

void reportProgress(const std::function<void(const StoreCheckProgress&)>& progress,
                    std::string_view phase, std::uint64_t done, std::uint64_t total) {
  if (progress) progress({.phase = phase, .done = done, .total = total});
}

}  // namespace

std::string_view storeDamageName(StoreDamage kind) {
  switch (kind) {
    case StoreDamage::eventUndecodable:
      return "events that do not decode";
    case StoreDamage::eventAboveMark:
      return "events above their high-water mark";
    case StoreDamage::markMissing:
      return "events without a high-water mark";
    case StoreDamage::indexEntryMissing:
      return "missing index entries";
    case StoreDamage::indexValueWrong:
      return "index entries with a wrong value";
    case StoreDamage::indexEntryDangling:
      return "index entries that point at no event";
    case StoreDamage::indexEntryStray:
      return "index entries their event does not imply";
    case StoreDamage::indexKeyMalformed:
      return "malformed index keys";
    case StoreDamage::countWrong:
      return "wrong counts";
    case StoreDamage::quarantineUndecodable:
      return "quarantine entries that do not decode";
  }
  return "unknown damage";
}

std::uint64_t StoreCheckReport::damageTotal() const {
  std::uint64_t total = 0;
  for (std::uint64_t n : damage) total += n;
  return total;
}

StoreCheckReport checkStore(lmdb::Env& env, const StoreCheckOptions& options) {
  StoreCheckReport report;
  Findings findings(report, options.maxFindingsListed);
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::read);
  const CheckDbis dbs = openCheckDbis(txn);
  report.format = checkableFormat(txn, dbs);
  EventValueCodec codec;
  BlockLines lines;
  MarkCache marks(txn, dbs.marks);

  // Every event: decodes, is at or below its mark, has every index entry it implies.
  std::uint64_t matched[kIndexSlots] = {};
  if (dbs.events) {
    const std::uint64_t total = entriesOf(txn, dbs.events);
    lmdb::Cursor cursor(txn, *dbs.events);
    StoredEventFacts facts;
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      if (++report.events % kCheckProgressEvery == 0)
        reportProgress(options.progress, "events", report.events, total);
      const std::string_view key = cursor.key();
      if (key.size() != 8) {
        findings.add(StoreDamage::eventUndecodable,
                     [&]() { return "events key " + hexOf(key) + " is not an event id"; });
        continue;
      }
      const std::uint64_t id = lmdb::readBigEndian(key);
      if (auto problem = decodeStoredEvent(codec, lines, cursor.value(), facts)) {
        findings.add(StoreDamage::eventUndecodable, [&]() {
          return "event id " + std::to_string(id) + ": value does not decode (" + *problem + ")";
        });
        continue;
      }
      if (facts.block) {
        ++report.blocks;
        report.blockLines += facts.lines;
      }
      checkAgainstMark(marks, findings, facts.agentId, facts.epoch, facts.seq,
                       [&]() { return describeEvent(id, facts); });
      for (std::size_t s = 0; s < kIndexSlots; ++s) {
        const std::optional<std::string> indexKey = facts.keyIn(s, id);
        if (!indexKey) continue;
        auto value = getIfPresent(txn, dbs.index[s], *indexKey);
        if (!value) {
          findings.add(StoreDamage::indexEntryMissing, [&]() {
            return describeIndexKey(s, *indexKey) + " is missing (" + describeEvent(id, facts) +
                   " implies it)";
          });
          continue;
        }
        ++matched[s];
        if (*value != facts.valueIn(s)) {
          findings.add(StoreDamage::indexValueWrong, [&]() {
            return describeIndexKey(s, *indexKey) + " has value " + hexOf(*value) + ", event id " +
                   std::to_string(id) + " implies " + hexOf(facts.valueIn(s));
          });
        }
      }
    }
  }

  // Every index: well-formed keys, counted per prefix; when it holds more entries than the events
  // matched, the entries that belong to no event are found and named.
  PrefixCounter prefixes;
  for (std::size_t s = 0; s < kIndexSlots; ++s) {
    if (!dbs.index[s]) continue;
    const std::uint64_t total = entriesOf(txn, dbs.index[s]);
    std::uint64_t wellFormed = 0;
    std::uint64_t done = 0;
    {
      lmdb::Cursor cursor(txn, *dbs.index[s]);
      for (bool ok = cursor.first(); ok; ok = cursor.next()) {
        if (++done % kCheckProgressEvery == 0)
          reportProgress(options.progress, kIndexDbNames[s], done, total);
        const std::string_view key = cursor.key();
        auto parsed = parseIndexKey(s, key);
        if (!parsed) {
          findings.add(StoreDamage::indexKeyMalformed, [&]() {
            return std::string(kIndexDbNames[s]) + " key " + hexOf(key) + " has no valid layout";
          });
          continue;
        }
        ++wellFormed;
        if (kCountTags[s] != 0) prefixes.add(kCountTags[s], parsed->prefix);
      }
    }
    report.indexEntries[kIndexDbNames[s]] = done;
    if (wellFormed == matched[s]) continue;
    lmdb::Cursor cursor(txn, *dbs.index[s]);
    StoredEventFacts facts;
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      const std::string_view key = cursor.key();
      auto parsed = parseIndexKey(s, key);
      if (!parsed) continue;
      auto stored = getIfPresent(txn, dbs.events, lmdb::bigEndian(parsed->id));
      if (!stored) {
        findings.add(StoreDamage::indexEntryDangling, [&]() {
          return describeIndexKey(s, key) + ": event id " + std::to_string(parsed->id) +
                 " points at no event";
        });
        continue;
      }
      if (decodeStoredEvent(codec, lines, *stored, facts)) continue;  // reported with the event
      const std::optional<std::string> implied = facts.keyIn(s, parsed->id);
      if (implied != key) {
        findings.add(StoreDamage::indexEntryStray, [&]() {
          return describeIndexKey(s, key) + " does not belong to event id " +
                 std::to_string(parsed->id) + ", which implies " +
                 (implied ? describeIndexKey(s, *implied)
                          : "no entry in " + std::string(kIndexDbNames[s]));
        });
      }
    }
  }

  // Quarantine: decodes, at or below its mark.
  if (dbs.quarantine) {
    lmdb::Cursor cursor(txn, *dbs.quarantine);
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      ++report.quarantined;
      auto entry = keys::decodeQuarantine(cursor.key(), cursor.value());
      std::optional<std::string> problem;
      if (!entry) {
        problem = "malformed key or value";
      } else {
        try {
          withEvent(entry->packed, [](Event::Reader e) { (void)e.totalSize(); });
        } catch (const kj::Exception& e) {
          problem = "Cap'n Proto: " + std::string(e.getDescription().cStr());
        }
      }
      if (problem) {
        findings.add(StoreDamage::quarantineUndecodable, [&]() {
          return "quarantine key " + hexOf(cursor.key()) + " does not decode (" + *problem + ")";
        });
        continue;
      }
      checkAgainstMark(marks, findings, entry->agentId, entry->epoch, entry->seq, [&]() {
        return "quarantined event (agent " + printable(entry->agentId) + ", epoch " +
               std::to_string(entry->epoch) + ", seq " + std::to_string(entry->seq) + ")";
      });
    }
  }

  // Counts: each the number of entries under its prefix.
  std::map<std::string, std::uint64_t>& expected = prefixes.finish();
  if (report.quarantined > 0) expected["q"] = report.quarantined;
  if (dbs.counts) {
    lmdb::Cursor cursor(txn, *dbs.counts);
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      ++report.counts;
      const std::string key(cursor.key());
      const bool known =
          key == "q" || (!key.empty() && (key[0] == 'k' || key[0] == 'h' || key[0] == 'r'));
      if (!known) {
        findings.add(StoreDamage::countWrong,
                     [&]() { return "counts key " + hexOf(key) + " has no known layout"; });
        continue;
      }
      auto it = expected.find(key);
      const std::uint64_t want = it == expected.end() ? 0 : it->second;
      if (it != expected.end()) expected.erase(it);
      const std::string_view value = cursor.value();
      if (value.size() != 8 || lmdb::readBigEndian(value) != want) {
        findings.add(StoreDamage::countWrong, [&]() {
          return "counts " + printable(key) + " is " +
                 (value.size() == 8 ? std::to_string(lmdb::readBigEndian(value))
                                    : "malformed (" + hexOf(value) + ")") +
                 ", the entries number " + std::to_string(want);
        });
      }
    }
  }
  for (const auto& [key, want] : expected) {
    findings.add(StoreDamage::countWrong, [&]() {
      return "counts " + printable(key) + " is missing, the entries number " + std::to_string(want);
    });
  }
  reportProgress(options.progress, "done", report.events, report.events);
  return report;
}

IndexRepairResult repairIndexes(lmdb::Env& env, const IndexRepairOptions& options) {
  IndexRepairResult result;
  const std::size_t perTxn = options.itemsPerTxn == 0 ? 1 : options.itemsPerTxn;
  {
    lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::read);
    checkableFormat(txn, openCheckDbis(txn));  // throws for a store of another format
  }
  EventValueCodec codec;
  BlockLines lines;
  StoredEventFacts facts;

  // Every event gets the entries it implies, with the values it implies.
  std::string resumeAt;
  std::uint64_t eventsDone = 0;
  for (bool more = true; more;) {
    lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
    const MDB_dbi events = lmdb::openDbi(txn, "events");
    MDB_dbi index[kIndexSlots];
    for (std::size_t s = 0; s < kIndexSlots; ++s) index[s] = lmdb::openDbi(txn, kIndexDbNames[s]);
    std::size_t done = 0;
    more = false;
    {
      lmdb::Cursor cursor(txn, events);
      for (bool ok = resumeAt.empty() ? cursor.first() : cursor.seek(resumeAt); ok;
           ok = cursor.next()) {
        if (cursor.key() == resumeAt) continue;
        if (done == perTxn) {
          more = true;
          break;
        }
        ++done;
        resumeAt.assign(cursor.key());
        if (resumeAt.size() != 8) continue;
        const std::uint64_t id = lmdb::readBigEndian(resumeAt);
        if (decodeStoredEvent(codec, lines, cursor.value(), facts)) {
          ++result.eventsUndecodable;
          continue;
        }
        for (std::size_t s = 0; s < kIndexSlots; ++s) {
          const std::optional<std::string> key = facts.keyIn(s, id);
          if (!key) continue;
          auto value = lmdb::get(txn, index[s], *key);
          if (value && *value == facts.valueIn(s)) continue;
          ++(value ? result.valuesRewritten : result.entriesAdded);
          lmdb::put(txn, index[s], *key, facts.valueIn(s));
        }
      }
    }
    txn.commit();
    eventsDone += done;
    reportProgress(options.progress, "events", eventsDone, 0);
  }

  // Every index entry belongs to an event that implies it (entries of events that do not decode
  // stay: nothing can tell).
  for (std::size_t s = 0; s < kIndexSlots; ++s) {
    std::string resumeAt;
    std::uint64_t entriesDone = 0;
    for (bool more = true; more;) {
      lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
      const MDB_dbi events = lmdb::openDbi(txn, "events");
      const MDB_dbi index = lmdb::openDbi(txn, kIndexDbNames[s]);
      std::vector<std::string> remove;
      std::size_t done = 0;
      more = false;
      {
        lmdb::Cursor cursor(txn, index);
        for (bool ok = resumeAt.empty() ? cursor.first() : cursor.seek(resumeAt); ok;
             ok = cursor.next()) {
          const std::string_view key = cursor.key();
          if (key == resumeAt) continue;
          if (done == perTxn) {
            more = true;
            break;
          }
          ++done;
          resumeAt.assign(key);
          auto parsed = parseIndexKey(s, key);
          auto stored = parsed ? lmdb::get(txn, events, lmdb::bigEndian(parsed->id)) : std::nullopt;
          if (!stored) {
            remove.emplace_back(key);
            continue;
          }
          if (decodeStoredEvent(codec, lines, *stored, facts)) continue;
          if (facts.keyIn(s, parsed->id) != key) remove.emplace_back(key);
        }
      }
      for (const std::string& key : remove) lmdb::del(txn, index, key);
      result.entriesRemoved += remove.size();
      txn.commit();
      entriesDone += done;
      reportProgress(options.progress, kIndexDbNames[s], entriesDone, 0);
    }
  }

  // Counts from the entries there are, in one transaction (so no commit comes between).
  lmdb::Txn txn = lmdb::Txn::begin(env, lmdb::Txn::Mode::write);
  PrefixCounter prefixes;
  for (std::size_t s = kByKind; s < kIndexSlots; ++s) {
    lmdb::Cursor cursor(txn, lmdb::openDbi(txn, kIndexDbNames[s]));
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      if (auto parsed = parseIndexKey(s, cursor.key())) prefixes.add(kCountTags[s], parsed->prefix);
    }
  }
  std::map<std::string, std::uint64_t>& expected = prefixes.finish();
  const MDB_dbi quarantine = lmdb::openDbi(txn, "quarantine");
  if (const std::uint64_t q = entriesOf(txn, quarantine); q > 0) expected["q"] = q;
  const MDB_dbi counts = lmdb::openDbi(txn, "counts");
  std::vector<std::string> remove;
  {
    lmdb::Cursor cursor(txn, counts);
    for (bool ok = cursor.first(); ok; ok = cursor.next()) {
      const std::string key(cursor.key());
      auto it = expected.find(key);
      if (it == expected.end()) {
        if (cursor.value() != lmdb::bigEndian(0) || key.empty() ||
            (key != "q" && key[0] != 'k' && key[0] != 'h' && key[0] != 'r')) {
          remove.push_back(key);
        }
        continue;
      }
      if (cursor.value() == lmdb::bigEndian(it->second)) expected.erase(it);
    }
  }
  for (const std::string& key : remove) lmdb::del(txn, counts, key);
  for (const auto& [key, n] : expected) lmdb::put(txn, counts, key, lmdb::bigEndian(n));
  result.countsRewritten = remove.size() + expected.size();
  txn.commit();
  reportProgress(options.progress, "done", eventsDone, eventsDone);
  return result;
}

}  // namespace octolaunch
