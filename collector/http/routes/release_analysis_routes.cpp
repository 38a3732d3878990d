// The release routes, answered by analysis::ReleaseService:
//   GET  /api/v1/releases[?service=S][&environment=E][&limit=N]
//                                            newest first, each with its status and host counts
//   POST /api/v1/releases                    register or merge (201 / 200 / 400 / 409 naming
//   fields) POST /api/v1/releases/{id}/stages        a pipeline stage report
//   {"name","status","job_url"} GET  /api/v1/releases/{id}               the release with per-host
//   deploy state and status GET  /api/v1/releases/{id}/timeline      events per host in time order,
//   with deploy windows GET  /api/v1/releases/{id}/causes
//   {"release","status","advice","causes":[...]} GET
//   /api/v1/drift?service=S[&environment=E][&since=T]
#include <memory>

#include "collector/analysis/release_service.h"
#include "collector/http/query_params.h"
#include "collector/http/routes/routes.h"

namespace octolaunch::http {

namespace {

struct ReleaseRoutesState {
  ReleaseRoutesState(ApiContext& api, analysis::AnalysisOptions opts)
      : options(std::move(opts)),
        service(api.events, api.releases, api.writer, api.clock, options) {}
  analysis::AnalysisOptions options;
  analysis::ReleaseService service;
};

JsonReply reply(analysis::ReleaseService::Reply r) {
  return JsonReply{r.status, std::move(r.body), std::move(r.text)};
}

}  // namespace

void registerReleaseAnalysisRoutes(Router& router, ApiContext& api) {
  // shared_ptr: owned jointly by the route handlers below, which live as long as the server.
  auto state = std::make_shared<ReleaseRoutesState>(
      api, api.analysis ? *api.analysis : analysis::AnalysisOptions{});

  router.get("/api/v1/releases", [state](const httplib::Request& req) {
    requireKnownParams(req, {"service", "environment", "limit"});
    constexpr std::uint64_t kDefaultLimit = 50, kMaxLimit = 1000;
    return reply(state->service.list(stringParam(req, "service"), stringParam(req, "environment"),
                                     intParam(req, "limit", kDefaultLimit, 1, kMaxLimit)));
  });
  router.post("/api/v1/releases", [state](const httplib::Request& req) {
    return reply(state->service.registerRelease(req.body));
  });
  router.post(R"(/api/v1/releases/([^/]+)/stages)", [state](const httplib::Request& req) {
    return reply(state->service.addStage(req.matches[1], req.body));
  });
  router.get(R"(/api/v1/releases/([^/]+))", [state](const httplib::Request& req) {
    requireKnownParams(req, {});
    return reply(state->service.view(req.matches[1]));
  });
  router.get(R"(/api/v1/releases/([^/]+)/timeline)", [state](const httplib::Request& req) {
    requireKnownParams(req, {});
    return reply(state->service.timeline(req.matches[1]));
  });
  router.get(R"(/api/v1/releases/([^/]+)/causes)", [state](const httplib::Request& req) {
    requireKnownParams(req, {});
    return reply(state->service.causes(req.matches[1]));
  });
  router.get("/api/v1/drift", [state](const httplib::Request& req) {
    requireKnownParams(req, {"service", "environment", "since"});
    return reply(state->service.drift(stringParam(req, "service"), stringParam(req, "environment"),
                                      timeParam(req, "since")));
  });
}

}  // namespace octolaunch::http
