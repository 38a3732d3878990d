// The web UI (collector/web/), open to all: the files hold no data, the scripts read /api/v1 with
// the viewer's token.
//   GET /                  the shell (index.html), also for the pages the scripts draw:
//   GET /releases/{id}     a release's timeline and causes (?host=H selects a host)
//   GET /hosts/{id}        one host's recent events
//   GET /assets/{name}     a script or style sheet by its content-hashed name; cached for a year
// Every answer carries the UI's Content-Security-Policy (no inline script or style, nothing from
// another origin) and nosniff; the shell is revalidated on each load (no-cache), so a new collector
// build is picked up at once while its assets are never fetched twice.
#include "collector/http/routes/routes.h"
#include "collector/web/web_assets.h"

namespace octolaunch::http {

namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void setUiHeaders(httplib::Response& res) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
}

// The shell is about 1 KiB: revalidation refetches it whole (no ETag).
void serveShell(const httplib::Request&, httplib::Response& res) {
  setUiHeaders(res);
  const web::WebAsset shell = web::webShell();
  res.set_header("Cache-Control", "no-cache");
  res.status = 200;
  res.set_content(std::string(shell.body), std::string(shell.contentType));
}

}  // namespace

void registerWebUiRoutes(Router& router, ApiContext&) {
  router.getRaw("/", serveShell, Scope::open);
  router.getRaw(R"(/releases/([^/]+))", serveShell, Scope::open);
  router.getRaw(R"(/hosts/([^/]+))", serveShell, Scope::open);
  router.getRaw(R"(/assets/([^/]+))",
                [](const httplib::Request& req, httplib::Response& res) {
                  setUiHeaders(res);
                  for (const web::WebAsset& asset : web::webAssets()) {
                    if (asset.path == req.path) {
                      res.status = 200;
                      res.set_header("Cache-Control", "public, max-age=31536000, immutable");
                      res.set_content(std::string(asset.body), std::string(asset.contentType));
                      return;
                    }
                  }
                  // An old page asking for an asset of another build: it must not be cached.
                  res.set_header("Cache-Control", "no-store");
                  writeError(res, 404, "no asset " + req.path + " in this build of the collector");
                },
                Scope::open);
}

}  // namespace octolaunch::http
