// The collector store's databases as tests see them: dumps to compare, and a store turned back
// into format 1 (store_format.h) the way the collector before formats left it — no `meta`
// database, empty values in idx_time and idx_kind, and with `untaggedEverywhere` in idx_host and
// idx_release too (older still). Use on an Env no LmdbEventStore is writing to.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "shared/lmdb/lmdb.h"

namespace octolaunch::testing {

using DbDump = std::map<std::string, std::string>;  // key -> value

DbDump dumpDb(lmdb::Env& env, const char* name);
// idx_time, idx_kind, idx_host, idx_release by name.
std::map<std::string, DbDump> indexDumps(lmdb::Env& env);

// What is inconsistent between the events and their indexes, one line per finding (empty: none):
// an index entry whose event is missing, an event missing from idx_time, idx_host or idx_kind or
// present twice in one, and a count ('r', 'h', 'k') that differs from its index's entries under
// that value. Reads the keys only (no event is decoded). Read-only.
std::vector<std::string> indexInconsistencies(lmdb::Env& env);

void makeFormatOne(lmdb::Env& env, bool untaggedEverywhere);

// Read-only: safe to poll while another process migrates or writes the store.
std::optional<std::string> metaValue(lmdb::Env& env, const char* key);
void setMetaValue(lmdb::Env& env, const char* key, const std::string& value);

}  // namespace octolaunch::testing
