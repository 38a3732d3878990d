// The release routes, answered by releases::ReleaseService; failures map to status codes here:
//   GET  /api/v1/releases[?service=S][&environment=E][&limit=N]
//        -> {"releases": [...], "total": N}, newest first, each with its status and host counts
//   POST /api/v1/releases                  register or merge: 201 created, 200 merged,
//        400 bad body, 409 {"error", "conflicts": [{"field","registered","requested"}]}
//   POST /api/v1/releases/{id}/stages      a pipeline stage report {"name","status","job_url"}:
//        200 with the release, 404 unknown id, 400 bad body
//   GET  /api/v1/releases/{id}             the release with per-host deploy state and status
//   GET  /api/v1/releases/{id}/timeline    events per host in time order, with deploy windows
//   GET  /api/v1/releases/{id}/causes      {"release","status","advice","causes":[...]}
//        (the three: 404 unknown id)
//   GET  /api/v1/drift?service=S[&environment=E][&since=T]   400 without service
#include <memory>

#include "collector/http/query_params.h"
#include "collector/http/routes/routes.h"
#include "collector/releases/release_service.h"

namespace octolaunch::http {

namespace {

using nlohmann::json;
using releases::Failure;

struct ReleaseRoutesState {
  ReleaseRoutesState(ApiContext& api, analysis::AnalysisOptions opts)
      : options(std::move(opts)),
        service(api.events, api.releases, api.writer, api.clock, options) {}
  analysis::AnalysisOptions options;
  releases::ReleaseService service;
};

JsonReply failureReply(const Failure& failure, const std::string& notFoundHint = "") {
  switch (failure.kind) {
    case Failure::Kind::notFound:
      return {404, {{"error", failure.message + notFoundHint}}, {}};
    case Failure::Kind::conflict: {
      json fields = json::array();
      for (const auto& c : failure.conflicts) {
        fields.push_back(
            {{"field", c.field}, {"registered", c.registered}, {"requested", c.requested}});
      }
      return {409, {{"error", failure.message}, {"conflicts", std::move(fields)}}, {}};
    }
    case Failure::Kind::badInput:
      break;
  }
  return {400, {{"error", failure.message}}, {}};
}

JsonReply releaseNotFound(const std::string& id) {
  return {404, {{"error", "release " + id + " not found"}}, {}};
}

}  // namespace

void registerReleaseAnalysisRoutes(Router& router, ApiContext& api) {
  // shared_ptr: owned jointly by the route handlers below, which live as long as the server.
  auto state = std::make_shared<ReleaseRoutesState>(
      api, api.analysis ? *api.analysis : analysis::AnalysisOptions{});

  router.get("/api/v1/releases", [state](const httplib::Request& req) {
    requireKnownParams(req, {"service", "environment", "limit"});
    constexpr std::uint64_t kDefaultLimit = 50, kMaxLimit = 1000;
    releases::ReleasePage page =
        state->service.list(stringParam(req, "service"), stringParam(req, "environment"),
                            intParam(req, "limit", kDefaultLimit, 1, kMaxLimit));
    return JsonReply{200, {{"releases", std::move(page.releases)}, {"total", page.total}}, {}};
  });
  router.post("/api/v1/releases", [state](const httplib::Request& req) {
    auto r = state->service.registerRelease(objectBody(req));
    if (!r.ok()) return failureReply(r.failure());
    return JsonReply{r.value().created ? 201 : 200, std::move(r.value().release), {}};
  });
  router.post(R"(/api/v1/releases/([^/]+)/stages)", [state](const httplib::Request& req) {
    auto r = state->service.addStage(req.matches[1], objectBody(req));
    if (!r.ok()) return failureReply(r.failure(), ": register it first (POST /api/v1/releases)");
    return JsonReply{200, std::move(r.value()), {}};
  });
  router.get(R"(/api/v1/releases/([^/]+))", [state](const httplib::Request& req) {
    requireKnownParams(req, {});
    auto view = state->service.view(req.matches[1]);
    if (!view) return releaseNotFound(req.matches[1]);
    return JsonReply{200, std::move(*view), {}};
  });
  router.get(R"(/api/v1/releases/([^/]+)/timeline)", [state](const httplib::Request& req) {
    requireKnownParams(req, {});
    auto text = state->service.timelineText(req.matches[1]);
    if (!text) return releaseNotFound(req.matches[1]);
    return JsonReply{200, {}, std::move(*text)};
  });
  router.get(R"(/api/v1/releases/([^/]+)/causes)", [state](const httplib::Request& req) {
    requireKnownParams(req, {});
    auto causes = state->service.causes(req.matches[1]);
    if (!causes) return releaseNotFound(req.matches[1]);
    return JsonReply{200, std::move(*causes), {}};
  });
  router.get("/api/v1/drift", [state](const httplib::Request& req) {
    requireKnownParams(req, {"service", "environment", "since"});
    auto r = state->service.drift(stringParam(req, "service"), stringParam(req, "environment"),
                                  timeParam(req, "since"));
    if (!r.ok()) return failureReply(r.failure());
    return JsonReply{200, std::move(r.value()), {}};
  });
}

}  // namespace octolaunch::http
