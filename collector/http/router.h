// JSON routes on top of cpp-httplib. A route is a function from the request to a JsonReply;
// the router turns exceptions into JSON errors so a handler never writes error bodies itself:
//   HttpError(status, msg)          -> status, {"error": msg}
//   StoreError (full)               -> 507, {"error": ...}
//   StoreError (badCursor)          -> 400, {"error": "cursor: ..."}
//   any other exception             -> 500, {"error": "internal error: ..."}
// Unknown paths and methods get 404 {"error": "no route for GET /x"}; over-long bodies 413.
//
// Threads: handlers run on cpp-httplib's worker threads, several at once; everything they touch
// must be safe for that (LMDB reads are; writes go through a WriteSerializer).
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace octolaunch::http {

struct JsonReply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
  std::string text;  // when not empty: the body, already JSON text (body is then unused)
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
  // A handler that writes the whole response itself (e.g. /metrics, the web UI).
  using RawHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Installs the error and exception handlers on server. server must outlive the router.
  explicit Router(httplib::Server& server);

  // pattern: a full-match std::regex over the path, e.g. R"(/api/v1/releases/([^/]+))";
  // captures are in request.matches.
  void get(const std::string& pattern, JsonHandler handler);
  void post(const std::string& pattern, JsonHandler handler);
  void getRaw(const std::string& pattern, RawHandler handler);

 private:
  httplib::Server::Handler wrap(JsonHandler handler);
  httplib::Server& server_;
};

// Writes {"error": message} with status.
void writeError(httplib::Response& response, int status, const std::string& message);

}  // namespace octolaunch::http
