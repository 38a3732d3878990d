// Every HTTP route group of the collector. To add routes: write routes/<name>_routes.cpp with a
// register<Name>Routes(Router&, ApiContext&) function, declare it here, and call it from
// registerAllRoutes() in routes.cpp.
#pragma once

#include "collector/http/api_context.h"
#include "collector/http/router.h"

namespace octolaunch::http {

void registerHealthRoutes(Router& router, ApiContext& api);  // GET /healthz, GET /metrics
void registerEventRoutes(Router& router, ApiContext& api);   // GET /api/v1/events
void registerHostRoutes(Router& router, ApiContext& api);    // GET /api/v1/hosts
// GET /api/v1/agents, POST /api/v1/agents/{id}/revoke
void registerAgentRoutes(Router& router, ApiContext& api);
void registerPurgeRoutes(Router& router, ApiContext& api);  // POST /api/v1/events/purge
// /api/v1/releases[/{id}[/stages|/timeline|/causes]] and /api/v1/drift
void registerReleaseAnalysisRoutes(Router& router, ApiContext& api);
// GET /, /releases/{id}, /hosts/{id} (the web UI's shell), /assets/{name}: open to all
void registerWebUiRoutes(Router& router, ApiContext& api);

void registerAllRoutes(Router& router, ApiContext& api);

}  // namespace octolaunch::http
