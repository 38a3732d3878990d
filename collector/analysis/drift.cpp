#include "collector/analysis/drift.h"

#include <algorithm>
#include <set>

namespace octolaunch::analysis {

std::string entryLabel(const FingerprintEntry& e) {
  if (e.kind == "env") return "env " + e.name;
  if (e.kind == "command") return "command " + e.name;
  return e.name;
}

std::vector<std::string> differingNames(const std::vector<FingerprintEntry>& entries,
                                        const std::vector<FingerprintEntry>& reference) {
  std::map<std::pair<std::string, std::string>, std::string> a, b;
  for (const auto& e : entries) a[{e.kind, e.name}] = e.hmac;
  for (const auto& e : reference) b[{e.kind, e.name}] = e.hmac;
  std::set<std::string> out;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) out.insert(entryLabel({k.second, k.first, ""}));
  }
  for (const auto& [k, v] : b) {
    if (!a.count(k)) out.insert(entryLabel({k.second, k.first, ""}));
  }
  return {out.begin(), out.end()};
}

namespace {

std::map<std::string, std::vector<std::string>> driftWithinKey(
    std::span<const HostFingerprint> hosts) {
  // (kind, name) -> hmac ("" when absent) per host
  std::set<std::pair<std::string, std::string>> names;
  for (const auto& h : hosts) {
    for (const auto& e : h.entries) names.insert({e.kind, e.name});
  }
  std::map<std::string, std::set<std::string>> differs;
  for (const auto& key : names) {
    std::map<std::string, std::vector<const std::string*>> groups;  // hmac -> hosts
    for (const auto& h : hosts) {
      std::string value;
      for (const auto& e : h.entries) {
        if (e.kind == key.first && e.name == key.second) value = e.hmac;
      }
      groups[value].push_back(&h.host);
    }
    if (groups.size() < 2) continue;
    std::size_t best = 0, bestCount = 0;
    for (const auto& [v, hs] : groups) {
      if (hs.size() > best) {
        best = hs.size();
        bestCount = 1;
      } else if (hs.size() == best) {
        ++bestCount;
      }
    }
    std::string label = entryLabel({key.second, key.first, ""});
    for (const auto& [v, hs] : groups) {
      if (bestCount == 1 && hs.size() == best) continue;  // the majority
      for (const std::string* h : hs) differs[*h].insert(label);
    }
  }
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [h, s] : differs) out[h] = {s.begin(), s.end()};
  return out;
}

}  // namespace

std::map<std::string, std::vector<std::string>> driftFromMajority(
    std::span<const HostFingerprint> hosts) {
  std::map<std::string, std::vector<HostFingerprint>> byKey;
  for (const auto& h : hosts) byKey[h.keyId].push_back(h);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [key, group] : byKey) out.merge(driftWithinKey(group));
  return out;
}

std::vector<std::string> withoutSharedKey(std::span<const HostFingerprint> hosts) {
  std::map<std::string, int> perKey;
  for (const auto& h : hosts) ++perKey[h.keyId];
  std::vector<std::string> out;
  if (hosts.size() < 2) return out;
  for (const auto& h : hosts) {
    if (perKey[h.keyId] == 1) out.push_back(h.host);
  }
  return out;
}

std::vector<HostFingerprint> latestPerHost(std::span<const EventFact> facts, FactKind kind,
                                           const std::string& service) {
  std::map<std::string, HostFingerprint> latest;
  for (const auto& f : facts) {
    if (f.type != kind || (!service.empty() && f.service != service)) continue;
    auto it = latest.find(f.host);
    if (it != latest.end() && it->second.timeNs > f.timeNs) continue;
    latest[f.host] = {f.host, f.entries, f.timeNs, f.ref, f.release, f.keyId};
  }
  std::vector<HostFingerprint> out;
  for (auto& [h, fp] : latest) out.push_back(std::move(fp));
  return out;
}

nlohmann::json driftJson(const std::string& service, std::span<const HostFingerprint> config,
                         std::span<const HostFingerprint> dependency) {
  auto c = driftFromMajority(config);
  auto d = driftFromMajority(dependency);
  std::set<std::string> all;
  for (const auto& h : config) all.insert(h.host);
  for (const auto& h : dependency) all.insert(h.host);
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& h : all) {
    if (!c.count(h) && !d.count(h)) continue;
    hosts.push_back({{"host", h},
                     {"config", c.count(h) ? nlohmann::json(c[h]) : nlohmann::json::array()},
                     {"dependency", d.count(h) ? nlohmann::json(d[h]) : nlohmann::json::array()}});
  }
  bool drift = !hosts.empty();
  std::set<std::string> alone;
  for (const auto& h : withoutSharedKey(config)) alone.insert(h);
  for (const auto& h : withoutSharedKey(dependency)) alone.insert(h);
  nlohmann::json j = {{"service", service},
                      {"hosts_total", all.size()},
                      {"drift", drift},
                      {"hosts", std::move(hosts)},
                      {"not_comparable", alone}};
  if (!alone.empty()) j["note"] = "not comparable: no shared key";
  return j;
}

}  // namespace octolaunch::analysis
