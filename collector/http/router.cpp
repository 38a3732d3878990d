#include "collector/http/router.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string_view>

#include "collector/store/event_store.h"
#include "shared/util/utf8.h"

namespace octolaunch::http {

namespace {
constexpr const char* kJson = "application/json";

const char* reasonFor(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    default:
      return status < 500 ? "bad request" : "internal error";
  }
}

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

httplib::Server::Handler serveJson(Router::JsonHandler handler) {
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

Router::Router(httplib::Server& server) : server_(server) {
  // cpp-httplib calls the error handler for every status >= 400; fill only empty bodies (its own
  // 404/413/... answers), keeping the JSON errors our handlers wrote.
  server_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        try {
          if (res.status != 404) {
            writeError(res, res.status, reasonFor(res.status));
          } else if (auto bad = invalidUtf8(req)) {
            writeError(res, 400, *bad);
          } else {
            writeError(res, 404, "no route for " + req.method + " " + req.path);
          }
        } catch (...) {
          writeLastResort(res);
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_.set_exception_handler(replyForException);
}

void Router::get(const std::string& pattern, JsonHandler handler) {
  server_.Get(pattern, serveJson(std::move(handler)));
}

void Router::post(const std::string& pattern, JsonHandler handler) {
  server_.Post(pattern, serveJson(std::move(handler)));
}

void Router::getRaw(const std::string& pattern, RawHandler handler) {
  server_.Get(pattern,
              [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
                guarded(req, res, [&] { handler(req, res); });
              });
}

}  // namespace octolaunch::http
