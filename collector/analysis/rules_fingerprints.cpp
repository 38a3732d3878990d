// Rules comparing what hosts run with what they should run: artifact-mismatch, config-drift,
// dependency-change.
#include <algorithm>
#include <cctype>
#include <set>

#include "collector/analysis/cause_rules.h"
#include "collector/analysis/drift.h"

namespace octolaunch::analysis {

namespace {

std::string normalDigest(std::string d) {
  if (auto at = d.rfind('@'); at != std::string::npos) d = d.substr(at + 1);
  std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
  return d;
}

std::string shortDigest(const std::string& d) {
  std::string n = normalDigest(d);
  auto colon = n.find(':');
  std::size_t keep = colon == std::string::npos ? 12 : colon + 13;
  return n.size() > keep ? n.substr(0, keep) + "..." : n;
}

std::string joinNames(const std::set<std::string>& names, std::size_t max = 4) {
  std::string out;
  std::size_t i = 0;
  for (const auto& n : names) {
    if (i == max) {
      out += ", +" + std::to_string(names.size() - max) + " more";
      break;
    }
    out += (i++ ? ", " : "") + n;
  }
  return out;
}

struct Comparison {
  Cause cause;
  std::set<std::string> names;
};

void finish(const CauseInput& in, Comparison& cmp, const std::string& what,
            std::vector<Cause>& out) {
  if (cmp.cause.hosts.empty()) return;
  Cause& c = cmp.cause;
  c.hostsTotal = in.state.total();
  c.rootKind = true;
  c.observedState = true;
  c.title =
      oneLine(what + " on " + hostsPhrase(c.hosts, c.hostsTotal) + ": " + joinNames(cmp.names));
  for (const auto& e : c.evidence) {
    if (e.role == "cause" && e.ref) {
      c.openFirst.push_back({"event", "the fingerprint on " + e.host, {}, e});
      break;
    }
  }
  std::string job = deployJobUrl(in.release);
  if (!job.empty()) c.openFirst.push_back(openJob(job, "CI deploy job"));
  out.push_back(std::move(c));
}

void compare(const CauseInput& in, FactKind kind, const char* category, const char* noun,
             double specHealthy, double specBaseline, std::vector<Cause>& out) {
  std::vector<EventFact> facts;
  for (const auto& l : in.linked) {
    if (l.how != LinkKind::context && l.fact.type == kind) facts.push_back(l.fact);
  }
  std::vector<HostFingerprint> latest = latestPerHost(facts, kind, "");
  std::vector<const HostFingerprint*> failing, allHealthy;
  for (const auto& fp : latest) {
    const HostDeployState* s = in.state.host(fp.host);
    if (s && s->state == HostState::failed) failing.push_back(&fp);
    if (s && s->state == HostState::succeeded) allHealthy.push_back(&fp);
  }
  std::set<std::string> incomparable;  // failing hosts that share no key with anything to compare
  std::set<std::string> keys;
  for (const auto& fp : latest) keys.insert(fp.keyId);
  Comparison vsHealthy, vsBaseline;
  vsHealthy.cause.category = vsBaseline.cause.category = category;
  vsHealthy.cause.specificity = specHealthy;
  vsBaseline.cause.specificity = specBaseline;
  std::set<std::string> baselineReleases;
  std::vector<const HostFingerprint*> healthy;  // healthy hosts sharing a failing host's key
  for (const HostFingerprint* f : failing) {
    std::set<std::string> names;
    bool first = true;
    std::vector<const HostFingerprint*> peers;
    for (const HostFingerprint* h : allHealthy) {
      if (h->keyId == f->keyId) peers.push_back(h);
    }
    for (const HostFingerprint* h : peers) {  // names that differ from every healthy peer
      if (std::find(healthy.begin(), healthy.end(), h) == healthy.end()) healthy.push_back(h);
      auto d = differingNames(f->entries, h->entries);
      std::set<std::string> ds(d.begin(), d.end());
      if (first) {
        names = ds;
      } else {
        std::set<std::string> keep;
        std::set_intersection(names.begin(), names.end(), ds.begin(), ds.end(),
                              std::inserter(keep, keep.end()));
        names = keep;
      }
      first = false;
    }
    EventFact shown;
    shown.ref = f->ref;
    shown.host = f->host;
    shown.timeNs = f->timeNs;
    shown.kind =
        kind == FactKind::CONFIG_FINGERPRINT ? "config.fingerprint" : "dependency.fingerprint";
    if (!names.empty()) {
      shown.summary = std::string(noun) + " differs from healthy hosts: " + joinNames(names);
      touchHost(vsHealthy.cause, f->host, f->timeNs);
      vsHealthy.cause.evidence.push_back(evidenceOf(shown, "cause"));
      vsHealthy.names.insert(names.begin(), names.end());
      continue;
    }
    auto b = in.baselines.find(f->host);
    const auto* base = b == in.baselines.end()                ? nullptr
                       : kind == FactKind::CONFIG_FINGERPRINT ? &b->second.config
                                                              : &b->second.dependency;
    const std::string* baseKey = b == in.baselines.end() ? nullptr
                                 : kind == FactKind::CONFIG_FINGERPRINT
                                     ? &b->second.configKeyId
                                     : &b->second.dependencyKeyId;
    const bool baseComparable = base && *base && *baseKey == f->keyId;
    if (peers.empty() && !baseComparable && (!allHealthy.empty() || (base && *base)))
      incomparable.insert(f->host);
    if (!baseComparable) continue;
    auto d = differingNames(f->entries, **base);
    if (d.empty()) continue;
    std::set<std::string> ds(d.begin(), d.end());
    shown.summary =
        std::string(noun) + " changed since " + b->second.release + ": " + joinNames(ds);
    touchHost(vsBaseline.cause, f->host, f->timeNs);
    vsBaseline.cause.evidence.push_back(evidenceOf(shown, "cause"));
    vsBaseline.names.insert(ds.begin(), ds.end());
    baselineReleases.insert(b->second.release);
  }
  if (!vsHealthy.cause.hosts.empty() && !healthy.empty()) {
    const HostFingerprint* h = healthy.front();
    EventFact ref;
    ref.ref = h->ref;
    ref.host = h->host;
    ref.timeNs = h->timeNs;
    ref.kind =
        kind == FactKind::CONFIG_FINGERPRINT ? "config.fingerprint" : "dependency.fingerprint";
    ref.summary = std::string(noun) + " of a healthy host";
    vsHealthy.cause.evidence.push_back(evidenceOf(ref, "passed"));
  }
  finish(
      in, vsHealthy,
      std::string(noun) + " differs from the " + std::to_string(healthy.size()) + " healthy hosts",
      out);
  std::string since =
      baselineReleases.size() == 1 ? *baselineReleases.begin() : "the last good release";
  finish(in, vsBaseline, std::string(noun) + " changed since the last good release (" + since + ")",
         out);
  for (const auto& host : withoutSharedKey(latest)) incomparable.insert(host);
  if (!incomparable.empty()) {
    // Said once: fingerprints made with different keys differ whatever the files hold.
    Cause c;
    c.category = category;
    c.context = true;
    c.hostsTotal = in.state.total();
    for (const auto& host : incomparable) {
      for (const auto& fp : latest) {
        if (fp.host == host) touchHost(c, host, fp.timeNs);
      }
    }
    c.title = oneLine(std::string(noun) + " fingerprints of " + hostsPhrase(c.hosts, c.hostsTotal) +
                      " not comparable: no shared key (" + std::to_string(keys.size()) +
                      (keys.size() == 1 ? " key" : " keys") + " among the hosts)");
    c.reasons.push_back("fingerprints are compared only between hosts with the same key id");
    out.push_back(std::move(c));
  }
}

}  // namespace

std::vector<Cause> artifactCauses(const CauseInput& in) {
  std::vector<Cause> out;
  if (in.release.artifactDigest.empty()) return out;
  std::string want = normalDigest(in.release.artifactDigest);
  std::vector<EventFact> facts;
  for (const auto& l : in.linked) {
    if (l.how != LinkKind::context && l.fact.type == FactKind::ARTIFACT_OBSERVED)
      facts.push_back(l.fact);
  }
  // The latest observation per host decides.
  std::map<std::string, const EventFact*> latest;
  for (const auto& f : facts) {
    auto& slot = latest[f.host];
    if (!slot || slot->timeNs <= f.timeNs) slot = &f;
  }
  Cause c;
  c.category = "artifact-mismatch";
  c.rollbackHelps = true;
  c.specificity = 0.9;
  c.rootKind = true;
  c.observedState = true;
  std::string seen;
  for (const auto& [host, f] : latest) {
    bool match = std::any_of(f->digests.begin(), f->digests.end(),
                             [&](const std::string& d) { return normalDigest(d) == want; });
    if (match || f->digests.empty()) continue;
    touchHost(c, host, f->timeNs);
    c.evidence.push_back(evidenceOf(*f, "cause"));
    if (seen.empty()) seen = f->digests.front();
  }
  if (c.hosts.empty()) return out;
  c.hostsTotal = in.state.total();
  c.title =
      oneLine("artifact on " + hostsPhrase(c.hosts, c.hostsTotal) + " is " + shortDigest(seen) +
              ", but CI registered " + shortDigest(in.release.artifactDigest));
  c.openFirst.push_back(
      {"event", "the artifact.observed on " + c.hosts.front(), {}, c.evidence.front()});
  for (const auto& url : in.release.jobUrls)
    c.openFirst.push_back(openJob(url, "CI job that registered the artifact"));
  if (in.release.jobUrls.empty() && !in.release.ciRunUrl.empty())
    c.openFirst.push_back(openJob(in.release.ciRunUrl, "CI run"));
  out.push_back(std::move(c));
  return out;
}

std::vector<Cause> fingerprintCauses(const CauseInput& in) {
  std::vector<Cause> out;
  compare(in, FactKind::CONFIG_FINGERPRINT, "config-drift", "config", 0.8, 0.7, out);
  compare(in, FactKind::DEPENDENCY_FINGERPRINT, "dependency-change", "dependencies", 0.65, 0.7,
          out);
  return out;
}

}  // namespace octolaunch::analysis
