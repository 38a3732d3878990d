#include "collector/releases/release_service.h"

#include <algorithm>
#include <map>

#include "collector/releases/store_sources.h"

namespace octolaunch::releases {

using analysis::Detail;
using analysis::Release;
using analysis::ReleaseAnalysis;
using nlohmann::json;

namespace {

constexpr std::int64_t kDriftDefaultLookbackNs = 30LL * 24 * 3600 * 1'000'000'000;

Failure badInput(std::string message) { return {Failure::Kind::badInput, std::move(message), {}}; }

std::string fieldValue(const Release& r, const std::string& field) {
  if (field == "service") return r.service;
  if (field == "commit") return r.commit;
  return r.artifactDigest;
}

// Thrown out of a store modification to abandon its write transaction.
struct Abandoned {
  Failure failure;
};

}  // namespace

ReleaseService::ReleaseService(EventStore& events, ReleaseStore& releases, WriteSerializer& writer,
                               const Clock& clock, const analysis::AnalysisOptions& options)
    : events_(events), releases_(releases), writer_(writer), clock_(clock), options_(options) {}

Result<Registration> ReleaseService::registerRelease(const json& body) {
  std::int64_t now = clock_.nowNs();
  auto parsed = analysis::releaseFromJson(body, now);
  if (!parsed.value) return badInput(parsed.error);
  const Release& incoming = *parsed.value;
  Registration registration;
  try {
    writer_.run([&] {
      registration.release = releases_.modify(incoming.id, [&](const std::optional<json>& current) {
        std::optional<Release> existing;
        if (current) existing = analysis::releaseFromJson(*current, now).value;
        if (!existing) {  // new, or a stored document that no longer reads: registered anew
          registration.created = !current;
          return analysis::releaseToJson(incoming);
        }
        auto merged = analysis::mergeRelease(*existing, incoming, now);
        if (merged.conflicts.empty()) return analysis::releaseToJson(merged.merged);
        Failure conflict{Failure::Kind::conflict, "", {}};
        std::string names;
        for (const auto& f : merged.conflicts) {
          conflict.conflicts.push_back({f, fieldValue(*existing, f), fieldValue(incoming, f)});
          names += (names.empty() ? "" : ", ") + f;
        }
        conflict.message =
            "release " + incoming.id + " is already registered with a different " + names;
        throw Abandoned{std::move(conflict)};
      });
    });
  } catch (Abandoned& a) {
    return std::move(a.failure);
  }
  registration.release.erase("stage_reports");
  return registration;
}

Result<json> ReleaseService::addStage(const std::string& id, const json& body) {
  std::int64_t now = clock_.nowNs();
  auto stage = analysis::stageFromJson(body, now);
  if (!stage.value) return badInput(stage.error);
  json stored;
  try {
    writer_.run([&] {
      stored = releases_.modify(id, [&](const std::optional<json>& current) {
        std::optional<Release> r;
        if (current) r = analysis::releaseFromJson(*current, now).value;
        if (!r) throw Abandoned{{Failure::Kind::notFound, "release " + id + " not found", {}}};
        analysis::addStage(*r, *stage.value, now);
        return analysis::releaseToJson(*r);
      });
    });
  } catch (Abandoned& a) {
    return std::move(a.failure);
  }
  stored.erase("stage_reports");
  return stored;
}

std::optional<ReleaseAnalysis> ReleaseService::analyze(const std::string& id, Detail detail) {
  auto doc = releases_.get(id);
  if (!doc) return std::nullopt;
  auto r = analysis::releaseFromJson(*doc, 0);
  if (!r.value) return std::nullopt;
  StoreEventSource source(events_);
  StoreReleaseHistory history(releases_);
  return analysis::analyzeRelease(*r.value, source, options_, clock_.nowNs(), &history, detail);
}

ReleasePage ReleaseService::list(const std::string& service, const std::string& environment,
                                 std::size_t limit) {
  std::vector<Release> matching;
  for (const auto& doc : releases_.list()) {
    auto r = analysis::releaseFromJson(doc, 0);
    if (!r.value) continue;  // cannot happen: only valid documents are stored
    if (!service.empty() && r.value->service != service) continue;
    if (!environment.empty() && r.value->environment != environment) continue;
    matching.push_back(std::move(*r.value));
  }
  std::sort(matching.begin(), matching.end(), [](const Release& a, const Release& b) {
    return a.createdNs != b.createdNs ? a.createdNs > b.createdNs : a.id < b.id;
  });
  ReleasePage page;
  page.total = matching.size();
  StoreEventSource source(events_);
  StoreReleaseHistory history(releases_);
  for (std::size_t i = 0; i < matching.size() && i < limit; ++i) {
    ReleaseAnalysis a = analysis::analyzeRelease(matching[i], source, options_, clock_.nowNs(),
                                                 &history, Detail::withoutHookStdout);
    json summary = a.viewJson();
    summary.erase("hosts");  // per-host detail is in view()
    page.releases.push_back(std::move(summary));
  }
  return page;
}

std::optional<json> ReleaseService::view(const std::string& id) {
  auto a = analyze(id, Detail::withoutHookStdout);
  if (!a) return std::nullopt;
  return a->viewJson();
}

std::optional<std::string> ReleaseService::timelineText(const std::string& id) {
  auto a = analyze(id);
  if (!a) return std::nullopt;
  return a->timelineText(options_.timeline);
}

std::optional<json> ReleaseService::causes(const std::string& id) {
  auto a = analyze(id, Detail::withoutHookStdout);
  if (!a) return std::nullopt;
  return a->causesJson();
}

Result<json> ReleaseService::drift(const std::string& service, const std::string& environment,
                                   std::optional<std::int64_t> sinceNs) {
  if (service.empty()) return badInput("service: required");
  std::int64_t since = sinceNs.value_or(clock_.nowNs() - kDriftDefaultLookbackNs);
  StoreEventSource source(events_);
  std::map<std::string, std::string> envCache;
  auto environmentOf = [&](const std::string& release) {
    auto [it, fresh] = envCache.try_emplace(release);
    if (fresh) {
      if (auto doc = releases_.get(release)) it->second = doc->value("environment", "");
    }
    return it->second;
  };
  json out = analysis::driftReport(source, service, since, environment, environmentOf);
  if (!environment.empty()) out["environment"] = environment;
  return out;
}

}  // namespace octolaunch::releases
