#include "collector/http/routes/routes.h"

namespace octolaunch::http {

void registerAllRoutes(Router& router, ApiContext& api) {
  registerHealthRoutes(router, api);
  registerEventRoutes(router, api);
  registerHostRoutes(router, api);
  registerAgentRoutes(router, api);
  registerPurgeRoutes(router, api);
  registerReleaseAnalysisRoutes(router, api);
  registerWebUiRoutes(router, api);
}

}  // namespace octolaunch::http
