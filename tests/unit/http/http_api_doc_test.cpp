// docs/http-api.md against the routes the collector's router registers: every route documented
// with its scope, and nothing documented that does not exist.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "collector/http/routes/routes.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::http {
namespace {

// "GET /api/v1/releases/{}" -> "read": a path parameter of either side written as {}.
using RouteScopes = std::map<std::string, std::string>;

RouteScopes registeredRoutes() {
  testing::TempDir dir;
  lmdb::Env env = openCollectorEnv(dir.path(), std::size_t{16} << 20);
  testing::FakeClock clock;
  LmdbEventStore events(env, clock);
  LmdbReleaseStore releases(env);
  InlineWriteSerializer writer;
  ApiContext api{events, releases, writer, clock, {}};
  Router router;
  registerAllRoutes(router, api);
  RouteScopes out;
  for (const Router::RouteInfo& route : router.routes()) {
    std::string path = std::regex_replace(route.pattern, std::regex(R"(\(\[\^/\]\+\))"), "{}");
    EXPECT_EQ(path.find_first_of("()[]*+?\\"), std::string::npos)
        << route.pattern << ": a pattern this test cannot turn into a documented path";
    out[route.method + " " + path] = scopeName(route.needed);
  }
  return out;
}

RouteScopes documentedRoutes(const std::string& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in) << "cannot read " << file;
  const std::regex heading(R"(### (GET|POST|PUT|DELETE|PATCH) (/\S*))");
  const std::regex scope(R"(Scope: \*\*(open|read|write|admin)\*\*.*)");
  RouteScopes out;
  std::string line, current;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, heading)) {
      current = m[1].str() + " " + std::regex_replace(m[2].str(), std::regex(R"(\{\w+\})"), "{}");
      EXPECT_EQ(out.count(current), 0u) << current << " documented twice";
      out[current] = "(no Scope line)";
    } else if (!current.empty() && std::regex_match(line, m, scope)) {
      out[current] = m[1].str();
      current.clear();
    }
  }
  return out;
}

TEST(HttpApiDoc, EveryRouteIsDocumentedAndEveryDocumentedRouteExists) {
  const RouteScopes registered = registeredRoutes();
  const RouteScopes documented =
      documentedRoutes(std::string(OCTOLAUNCH_SOURCE_DIR) + "/docs/http-api.md");
  ASSERT_GE(registered.size(), 10u);
  for (const auto& [route, scope] : registered) {
    auto it = documented.find(route);
    if (it == documented.end()) {
      ADD_FAILURE() << route << " is served but not in docs/http-api.md (add a '### " << route
                    << "' section with 'Scope: **" << scope << "**')";
    } else {
      EXPECT_EQ(it->second, scope) << route << ": the scope in docs/http-api.md";
    }
  }
  for (const auto& [route, scope] : documented) {
    EXPECT_EQ(registered.count(route), 1u)
        << route << " is in docs/http-api.md but the collector serves no such route";
  }
}

}  // namespace
}  // namespace octolaunch::http
