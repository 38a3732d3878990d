// POST /api/v1/events/purge (admin scope): masks a secret that slipped past the agent's
// redaction in the stored events of a release (collector/store/event_purge.h says what is masked).
//   body {"release": R, "match": PATTERN (RE2), "dry_run": false}
//   200 {"events_examined": n, "events_rewritten": m, "dry_run": b}  (dry run: m would be)
//   400 a malformed body, or a pattern RE2 refuses ({"error": "match: <RE2's error>"})
//   404 a release that is neither registered nor carried by any stored event
// Audit: every purge that ran is logged (release, who, pattern digest, counts) and counted in
// /metrics. "Who" is the token's SHA-256 prefix (tokens have no names; `printf %s TOKEN |
// sha256sum` tells which one), and the pattern is logged as a digest because it is usually the
// secret itself.
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

#include "collector/http/query_params.h"
#include "collector/http/routes/routes.h"
#include "collector/store/event_purge.h"
#include "shared/util/pattern_mask.h"
#include "shared/util/sha256.h"

namespace octolaunch::http {

namespace {

using nlohmann::json;

struct PurgeCounters {
  std::atomic<std::uint64_t> runs{0};
  std::atomic<std::uint64_t> rewritten{0};
};

std::string requiredText(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw HttpError(400, std::string(name) + ": expected a non-empty string");
  }
  return it->get<std::string>();
}

// A short, stable name for a secret-bearing string: "sha256:" and 12 hex digits.
std::string digestName(std::string_view text) {
  return "sha256:" + toHex(Sha256::of(text)).substr(0, 12);
}

bool releaseKnown(ApiContext& api, const std::string& release) {
  if (api.releases.get(release)) return true;
  EventQuery query;
  query.release = release;
  query.limit = 1;
  return !api.events.query(query).events.empty();
}

}  // namespace

void registerPurgeRoutes(Router& router, ApiContext& api) {
  // shared_ptr: read by the /metrics source and written by the route, both living as long as
  // the server.
  auto counters = std::make_shared<PurgeCounters>();
  api.metrics.push_back([counters] {
    return "# HELP octolaunch_purges_total Purges of a release's events that rewrote them.\n"
           "# TYPE octolaunch_purges_total counter\n"
           "octolaunch_purges_total " +
           std::to_string(counters->runs.load()) +
           "\n# HELP octolaunch_purged_events_total Events rewritten by purges.\n"
           "# TYPE octolaunch_purged_events_total counter\n"
           "octolaunch_purged_events_total " +
           std::to_string(counters->rewritten.load()) + "\n";
  });

  router.post(
      "/api/v1/events/purge",
      [&api, counters](const httplib::Request& req) {
        const json body = objectBody(req);
        for (const auto& [key, value] : body.items()) {
          if (key != "release" && key != "match" && key != "dry_run") {
            throw HttpError(400, "body: unknown field '" + key + "'");
          }
        }
        const std::string release = requiredText(body, "release");
        const std::string match = requiredText(body, "match");
        const json dryRunValue = body.value("dry_run", json(false));
        if (!dryRunValue.is_boolean()) throw HttpError(400, "dry_run: expected true or false");
        const bool dryRun = dryRunValue.get<bool>();
        const auto re = compileMaskPattern(match);
        if (!re->ok()) throw HttpError(400, "match: " + re->error());
        if (!releaseKnown(api, release)) {
          throw HttpError(404, "release " + release + " not found: not registered, no events");
        }

        const std::string token(bearerToken(req.get_header_value("Authorization")));
        const std::string who = token.empty() ? "no token" : "token " + digestName(token);
        const PurgeResult result = purgeRelease(api.events, api.writer, release, *re, dryRun);
        if (!dryRun) {
          counters->runs.fetch_add(1);
          counters->rewritten.fetch_add(result.rewritten);
        }
        spdlog::warn("purge{} of release {} by {}: pattern {} ({} bytes) {} {} of {} events",
                     dryRun ? " (dry run)" : "", release, who, digestName(match), match.size(),
                     dryRun ? "would rewrite" : "rewrote", result.rewritten, result.examined);
        return JsonReply{200,
                         {{"events_examined", result.examined},
                          {"events_rewritten", result.rewritten},
                          {"dry_run", dryRun}}};
      },
      Scope::admin);
}

}  // namespace octolaunch::http
