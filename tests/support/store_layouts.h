// The collector store's databases as tests see them: dumps to compare, and a store turned back
// into format 1 (store_format.h) the way the collector before formats left it — no `meta`
// database, empty values in idx_time and idx_kind, and with `untaggedEverywhere` in idx_host and
// idx_release too (older still). Use on an Env no LmdbEventStore is writing to.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "shared/lmdb/lmdb.h"

namespace octolaunch::testing {

using DbDump = std::map<std::string, std::string>;  // key -> value

DbDump dumpDb(lmdb::Env& env, const char* name);
// idx_time, idx_kind, idx_host, idx_release by name.
std::map<std::string, DbDump> indexDumps(lmdb::Env& env);

void makeFormatOne(lmdb::Env& env, bool untaggedEverywhere);

// Read-only: safe to poll while another process migrates or writes the store.
std::optional<std::string> metaValue(lmdb::Env& env, const char* key);
void setMetaValue(lmdb::Env& env, const char* key, const std::string& value);

}  // namespace octolaunch::testing
