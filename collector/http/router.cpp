#include "collector/http/router.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <string_view>

#include "collector/store/event_store.h"
#include "shared/util/utf8.h"

namespace octolaunch::http {

namespace {
constexpr const char* kJson = "application/json";

JsonReply errorReply(int status, std::string message) {
  return {status, {{"error", std::move(message)}}, {}};
}

// The error for the first part of the request that is not valid UTF-8; nullopt when all of it is.
std::optional<std::string> invalidUtf8(const httplib::Request& req) {
  if (!isValidUtf8(req.path)) return "path: not valid UTF-8";
  for (const auto& [name, value] : req.params) {
    if (!isValidUtf8(name)) return "query: a parameter name is not valid UTF-8";
    if (!isValidUtf8(value)) return name + ": not valid UTF-8";
  }
  return std::nullopt;
}

// What writing a reply failed on (memory): a constant body, nothing that can fail again.
void writeLastResort(httplib::Response& res) noexcept {
  res.status = 500;
  try {
    res.set_content(R"({"error":"internal error"})", kJson);
  } catch (...) {
    res.body.clear();
  }
}

JsonReply replyFor(const httplib::Request& req, std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const HttpError& e) {
    return errorReply(e.status(), e.what());
  } catch (const StoreError& e) {
    switch (e.kind()) {
      case StoreError::Kind::badCursor:
        return errorReply(400, std::string("cursor: ") + e.what());
      case StoreError::Kind::full:
        return errorReply(507, e.what());
      default:
        spdlog::error("{} {}: {}", req.method, req.path, e.what());
        return errorReply(500, std::string("store error: ") + e.what());
    }
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", req.method, req.path, e.what());
    return errorReply(500, std::string("internal error: ") + e.what());
  } catch (...) {
    spdlog::error("{} {}: an exception that is not a std::exception", req.method, req.path);
    return errorReply(500, "internal error");
  }
}

void replyForException(const httplib::Request& req, httplib::Response& res,
                       std::exception_ptr ep) noexcept {
  try {
    writeJson(res, replyFor(req, ep));
  } catch (...) {
    writeLastResort(res);
  }
}

// Runs serve unless the request is not valid UTF-8; whatever it throws becomes the JSON error.
template <typename Serve>
void guarded(const httplib::Request& req, httplib::Response& res, const Serve& serve) noexcept {
  try {
    if (auto bad = invalidUtf8(req)) {
      writeError(res, 400, *bad);
      return;
    }
    serve();
  } catch (...) {
    replyForException(req, res, std::current_exception());
  }
}

Router::RawHandler serveJson(Router::JsonHandler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    guarded(req, res, [&] { writeJson(res, handler(req)); });
  };
}

}  // namespace

void writeJson(httplib::Response& response, JsonReply reply) {
  response.status = reply.status;
  if (reply.text.empty()) {
    reply.text = reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  response.set_content(std::move(reply.text), kJson);
}

void writeError(httplib::Response& response, int status, const std::string& message) {
  writeJson(response, errorReply(status, message));
}

void Router::get(const std::string& pattern, JsonHandler handler, Scope needed) {
  add("GET", pattern, needed, serveJson(std::move(handler)));
}

void Router::post(const std::string& pattern, JsonHandler handler, Scope needed) {
  add("POST", pattern, needed, serveJson(std::move(handler)));
}

void Router::getRaw(const std::string& pattern, RawHandler handler, Scope needed) {
  add("GET", pattern, needed,
      [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        guarded(req, res, [&] { handler(req, res); });
      });
}

void Router::add(const char* method, const std::string& pattern, Scope needed, RawHandler handler) {
  routes_.push_back(
      {method, pattern, routeLabel(pattern), std::regex(pattern), needed, std::move(handler)});
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  for (const Route& route : routes_) out.push_back({route.method, route.patternText, route.needed});
  return out;
}

bool Router::admitted(const Route& route, const httplib::Request& req,
                      httplib::Response& res) const {
  switch (access_.check(req.get_header_value("Authorization"), route.needed)) {
    case Access::allowed:
      return true;
    case Access::unauthenticated:
      writeError(res, 401, "a valid bearer token is required (Authorization: Bearer <token>)");
      res.set_header("WWW-Authenticate", "Bearer");
      return false;
    case Access::forbidden:
      writeError(res, 403,
                 req.method + " " + req.path + " needs the " + scopeName(route.needed) +
                     " scope; this token does not hold it");
      return false;
  }
  return false;
}

const Router::Route* Router::answer(httplib::Request& req, httplib::Response& res) const {
  const std::string_view method =
      req.method == "HEAD" ? std::string_view("GET") : std::string_view(req.method);
  for (const Route& route : routes_) {
    if (route.method == method && std::regex_match(req.path, req.matches, route.pattern)) {
      if (admitted(route, req, res)) route.handler(req, res);  // guarded: never throws
      return &route;
    }
  }
  if (auto bad = invalidUtf8(req)) {
    writeError(res, 400, *bad);
  } else {
    writeError(res, 404, "no route for " + req.method + " " + req.path);
  }
  return nullptr;
}

void Router::dispatch(httplib::Request& req, httplib::Response& res) const noexcept {
  const auto start = std::chrono::steady_clock::now();
  const Route* route = nullptr;
  try {
    route = answer(req, res);
  } catch (...) {
    replyForException(req, res, std::current_exception());
  }
  if (metrics_ == nullptr) return;
  try {
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    static const std::string kUnmatched = "unmatched";
    // A raw handler that set only the content answers 200 (api_http_service.cpp).
    metrics_->observe(route != nullptr ? route->label : kUnmatched, req.method,
                      res.status == -1 ? 200 : res.status, took.count());
  } catch (...) {
    // Counting failed for memory: the answer stands.
  }
}

}  // namespace octolaunch::http
