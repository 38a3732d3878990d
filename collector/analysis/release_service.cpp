#include "collector/analysis/release_service.h"

#include <algorithm>

namespace octolaunch::analysis {

using nlohmann::json;

namespace {

constexpr std::int64_t kDriftDefaultLookbackNs = 30LL * 24 * 3600 * 1'000'000'000;

json errorBody(const std::string& message) { return {{"error", message}}; }

std::optional<json> parseBody(const std::string& text) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  return body;
}

struct Conflict {
  std::vector<std::string> fields;
  Release registered;
};

std::string fieldValue(const Release& r, const std::string& field) {
  if (field == "service") return r.service;
  if (field == "commit") return r.commit;
  return r.artifactDigest;
}

}  // namespace

void StoreEventSource::forEach(const Query& q,
                               const std::function<bool(schema::Event::Reader)>& fn) {
  EventQuery query;
  query.release = q.release;
  query.host = q.host;
  query.kind = q.kind;
  query.sinceNs = q.sinceNs;
  query.untilNs = q.untilNs;
  query.skipHookStdout = q.skipHookStdout;
  query.skipWithRelease = q.skipWithRelease;
  query.onSkippedHookStdout = q.onSkippedHookStdout;
  store_.forEachEvent(query, fn);
}

std::optional<std::int64_t> StoreReleaseHistory::registeredAt(const std::string& id) {
  auto doc = releases_.get(id);
  if (!doc) return std::nullopt;
  auto r = releaseFromJson(*doc, 0);
  if (!r.value || r.value->createdNs == 0) return std::nullopt;
  return r.value->createdNs;
}

std::vector<std::string> StoreReleaseHistory::previousReleases(const Release& release,
                                                               std::size_t n) {
  std::vector<std::string> out =
      releases_.previousOfService(release.service, release.environment, release.createdNs, n + 1);
  std::erase(out, release.id);
  if (out.size() > n) out.resize(n);
  return out;
}

ReleaseService::ReleaseService(EventStore& events, ReleaseStore& releases, WriteSerializer& writer,
                               const Clock& clock, const AnalysisOptions& options)
    : events_(events), releases_(releases), writer_(writer), clock_(clock), options_(options) {}

ReleaseService::Reply ReleaseService::registerRelease(const std::string& text) {
  auto body = parseBody(text);
  if (!body) return {400, errorBody("body: expected a JSON object")};
  std::int64_t now = clock_.nowNs();
  auto parsed = releaseFromJson(*body, now);
  if (!parsed.value) return {400, errorBody(parsed.error)};
  const Release& incoming = *parsed.value;
  bool created = false;
  json stored;
  try {
    writer_.run([&] {
      stored = releases_.modify(incoming.id, [&](const std::optional<json>& current) {
        std::optional<Release> existing;
        if (current) existing = releaseFromJson(*current, now).value;
        if (!existing) {  // new (or a stored document from before these rules: registered anew)
          created = !current;
          return releaseToJson(incoming);
        }
        auto merged = mergeRelease(*existing, incoming, now);
        if (!merged.conflicts.empty()) throw Conflict{merged.conflicts, *existing};
        return releaseToJson(merged.merged);
      });
    });
  } catch (const Conflict& c) {
    json fields = json::array();
    std::string names;
    for (const auto& f : c.fields) {
      fields.push_back({{"field", f},
                        {"registered", fieldValue(c.registered, f)},
                        {"requested", fieldValue(incoming, f)}});
      names += (names.empty() ? "" : ", ") + f;
    }
    return {
        409,
        {{"error", "release " + incoming.id + " is already registered with a different " + names},
         {"conflicts", std::move(fields)}}};
  }
  stored.erase("stage_reports");
  return {created ? 201 : 200, std::move(stored)};
}

ReleaseService::Reply ReleaseService::addStage(const std::string& id, const std::string& text) {
  auto body = parseBody(text);
  if (!body) return {400, errorBody("body: expected a JSON object")};
  std::int64_t now = clock_.nowNs();
  auto stage = stageFromJson(*body, now);
  if (!stage.value) return {400, errorBody(stage.error)};
  bool found = true;
  json stored;
  struct Missing {};
  try {
    writer_.run([&] {
      stored = releases_.modify(id, [&](const std::optional<json>& current) {
        std::optional<Release> r;
        if (current) r = releaseFromJson(*current, now).value;
        if (!r) throw Missing{};
        analysis::addStage(*r, *stage.value, now);
        return releaseToJson(*r);
      });
    });
  } catch (const Missing&) {
    found = false;
  }
  if (!found)
    return {404,
            errorBody("release " + id + " not found: register it first (POST /api/v1/releases)")};
  stored.erase("stage_reports");
  return {200, std::move(stored)};
}

std::optional<ReleaseAnalysis> ReleaseService::analyze(const std::string& id, Detail detail) {
  auto doc = releases_.get(id);
  if (!doc) return std::nullopt;
  auto r = releaseFromJson(*doc, 0);
  if (!r.value) return std::nullopt;
  StoreEventSource source(events_);
  StoreReleaseHistory history(releases_);
  return analyzeRelease(*r.value, source, options_, clock_.nowNs(), &history, detail);
}

ReleaseService::Reply ReleaseService::list(const std::string& service,
                                           const std::string& environment, std::size_t limit) {
  std::vector<Release> matching;
  for (const auto& doc : releases_.list()) {
    auto r = releaseFromJson(doc, 0);
    if (!r.value) continue;  // cannot happen: only valid documents are stored
    if (!service.empty() && r.value->service != service) continue;
    if (!environment.empty() && r.value->environment != environment) continue;
    matching.push_back(std::move(*r.value));
  }
  std::sort(matching.begin(), matching.end(), [](const Release& a, const Release& b) {
    return a.createdNs != b.createdNs ? a.createdNs > b.createdNs : a.id < b.id;
  });
  json out = json::array();
  StoreEventSource source(events_);
  StoreReleaseHistory history(releases_);
  for (std::size_t i = 0; i < matching.size() && i < limit; ++i) {
    ReleaseAnalysis a = analyzeRelease(matching[i], source, options_, clock_.nowNs(), &history,
                                       Detail::withoutHookStdout);
    json j = a.viewJson();
    j.erase("hosts");  // per-host detail: GET /api/v1/releases/{id}
    out.push_back(std::move(j));
  }
  return {200, {{"releases", std::move(out)}, {"total", matching.size()}}};
}

ReleaseService::Reply ReleaseService::view(const std::string& id) {
  auto a = analyze(id, Detail::withoutHookStdout);
  if (!a) return {404, errorBody("release " + id + " not found")};
  return {200, a->viewJson()};
}

ReleaseService::Reply ReleaseService::timeline(const std::string& id) {
  auto a = analyze(id);
  if (!a) return {404, errorBody("release " + id + " not found")};
  return {200, {}, a->timelineText(options_.timeline)};
}

ReleaseService::Reply ReleaseService::causes(const std::string& id) {
  auto a = analyze(id, Detail::withoutHookStdout);
  if (!a) return {404, errorBody("release " + id + " not found")};
  return {200, a->causesJson()};
}

ReleaseService::Reply ReleaseService::drift(const std::string& service,
                                            const std::string& environment,
                                            std::optional<std::int64_t> sinceNs) {
  if (service.empty()) return {400, errorBody("service: required")};
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
  json out = driftReport(source, service, since, environment, environmentOf);
  if (!environment.empty()) out["environment"] = environment;
  return {200, std::move(out)};
}

}  // namespace octolaunch::analysis
