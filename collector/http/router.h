// JSON routes. A route is a function from the request to a JsonReply;
// the router turns exceptions into JSON errors so a handler never writes error bodies itself:
//   HttpError(status, msg)          -> status, {"error": msg}
//   StoreError (full)               -> 507, {"error": ...}
//   StoreError (badCursor)          -> 400, {"error": "cursor: ..."}
//   any other exception             -> 500, {"error": "internal error: ..."}, logged (our bug)
// Unknown paths and methods get 404 {"error": "no route for GET /x"}. The transport
// (http_server.h) answers what it refuses before routing (413, 408, 400) through writeError().
// Each route declares the scope it needs (collector/config/http_options.h: GET routes read, POST
// routes write by default). When tokens are configured (requireTokens()), a matched route is
// checked before its handler runs: no or an unknown bearer token is 401 with
// "WWW-Authenticate: Bearer", a token below the scope 403 {"error": "... needs the write scope"}.
// A path, query parameter name or value that is not valid UTF-8 is refused with 400 before any
// handler runs, e.g. {"error": "path: not valid UTF-8"}.
//
// Requests and responses are cpp-httplib's plain structs (httplib::Request, httplib::Response):
// the transport fills method, path (decoded), target, params, headers and body, and writes back
// status, headers and body. No exception leaves dispatch(), and every response body is written
// through writeJson(), which cannot fail on the content (bytes that are not UTF-8 become U+FFFD).
//
// Threads: routes are added before serving starts; dispatch() then runs on the server's handler
// threads, several at once; everything a handler touches must be safe for that (LMDB reads are;
// writes go through a WriteSerializer).
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "collector/config/http_options.h"
#include "collector/http/http_metrics.h"
#include "collector/http/token_access.h"

namespace octolaunch::http {

struct JsonReply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  // When not empty: the body, already JSON text written with shared/util/json_text.h (body is
  // then unused).
  std::string text;
};

class HttpError final : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

class Router final {
 public:
  using JsonHandler = std::function<JsonReply(const httplib::Request&)>;
  // A handler that writes the whole response itself (e.g. /metrics).
  using RawHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

  Router() = default;

  // pattern: a full-match std::regex over the path, e.g. R"(/api/v1/releases/([^/]+))";
  // captures are in request.matches.
  // needed: the scope a client must hold (Scope::open: none).
  void get(const std::string& pattern, JsonHandler handler, Scope needed = Scope::read);
  void post(const std::string& pattern, JsonHandler handler, Scope needed = Scope::write);
  void getRaw(const std::string& pattern, RawHandler handler, Scope needed = Scope::read);

  // From now on every route needs a bearer token of its scope. Call before serving.
  void requireTokens(const std::vector<HttpToken>& tokens) { access_ = TokenAccess(tokens); }
  // Counts every request dispatch() answers, by route pattern, method and status, with its time
  // (http_metrics.h). metrics: not owned, outlives the router; call before serving.
  void countRequests(HttpRequestMetrics* metrics) { metrics_ = metrics; }

  // What was registered, in order: for listings and the test that holds docs/http-api.md to the
  // routes that exist.
  struct RouteInfo {
    std::string method;   // "GET" or "POST"
    std::string pattern;  // as given to get()/post()/getRaw()
    Scope needed;
  };
  std::vector<RouteInfo> routes() const;

  // Answers req into res: the first route whose method and pattern match (HEAD is served by the
  // GET routes), else 404. Fills req.matches. Never throws.
  void dispatch(httplib::Request& req, httplib::Response& res) const noexcept;

 private:
  struct Route {
    std::string method;
    std::string patternText;  // as given to get()/post()/getRaw()
    std::string label;        // routeLabel(pattern)
    std::regex pattern;
    Scope needed;
    RawHandler handler;
  };
  void add(const char* method, const std::string& pattern, Scope needed, RawHandler handler);
  // Writes the 401 or 403 and returns false when req may not use route.
  bool admitted(const Route& route, const httplib::Request& req, httplib::Response& res) const;

  // Answers req into res (dispatch() without the counting); the route taken, or null.
  const Route* answer(httplib::Request& req, httplib::Response& res) const;

  std::vector<Route> routes_;
  TokenAccess access_;
  HttpRequestMetrics* metrics_ = nullptr;
};

// Writes reply as the response: status and JSON text. Never throws for the content: strings that
// are not valid UTF-8 are written with U+FFFD in place of the bad bytes.
void writeJson(httplib::Response& response, JsonReply reply);
// Writes {"error": message} with status, through writeJson().
void writeError(httplib::Response& response, int status, const std::string& message);

}  // namespace octolaunch::http
