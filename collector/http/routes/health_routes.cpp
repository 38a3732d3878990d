// GET /healthz -> {"status": "ok"} (open to all); GET /metrics (read scope) -> Prometheus text from
// every metrics source.
#include "collector/http/routes/routes.h"

namespace octolaunch::http {

void registerHealthRoutes(Router& router, ApiContext& api) {
  router.get(
      "/healthz",
      [](const httplib::Request&) {
        return JsonReply{200, {{"status", "ok"}}};
      },
      Scope::open);
  router.getRaw("/metrics", [&api](const httplib::Request&, httplib::Response& res) {
    std::string text;
    for (const auto& source : api.metrics) text += source();
    res.set_content(text, "text/plain; version=0.0.4");
  });
}

}  // namespace octolaunch::http
