// Drift: which hosts' config or dependency fingerprints differ from the majority of a service's
// hosts, and in which file or variable name. Used by `octolaunch drift` and by the config-drift
// rule.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "collector/analysis/event_fact.h"

namespace octolaunch::analysis {

// The latest fingerprint one host reported.
struct HostFingerprint {
  std::string host;
  std::vector<FingerprintEntry> entries;
  std::int64_t timeNs = 0;
  EventRef ref;
  std::string release;
  std::string keyId;  // the key that made the hashes; only equal key ids compare
};

// "env DATABASE_URL", "/etc/api/api.toml", "command dpkg -l"
std::string entryLabel(const FingerprintEntry& entry);

// Names whose hash differs between the two sets, or that only one of them has; sorted, labelled.
std::vector<std::string> differingNames(const std::vector<FingerprintEntry>& entries,
                                        const std::vector<FingerprintEntry>& reference);

// Hosts are compared only with hosts of the same key id (empty: legacy, comparable with empty).
// For each host, the names where it differs from the value most hosts of its key share (a name
// where no value is held by more than half of the hosts counts as differing on every host that is
// not in the largest group, or on all hosts when the largest groups tie). Hosts without differences
// are left out.
std::map<std::string, std::vector<std::string>> driftFromMajority(
    std::span<const HostFingerprint> hosts);

// The latest fingerprint per host among facts of one kind (config.fingerprint or
// dependency.fingerprint), for one service (empty: any).
std::vector<HostFingerprint> latestPerHost(std::span<const EventFact> facts, FactKind kind,
                                           const std::string& service);

// Hosts whose fingerprint shares its key id with no other host's (nothing to compare it with),
// when there are at least two hosts.
std::vector<std::string> withoutSharedKey(std::span<const HostFingerprint> hosts);

// {"service","hosts_total","drift": bool, "hosts":
// [{"host","config":[names],"dependency":[names]}], "not_comparable": [hosts], "note"?}
// not_comparable lists hosts (config or dependency) that share no key with another host; "note"
// is "not comparable: no shared key" when that list is not empty.
nlohmann::json driftJson(const std::string& service, std::span<const HostFingerprint> config,
                         std::span<const HostFingerprint> dependency);

}  // namespace octolaunch::analysis
