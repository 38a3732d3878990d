#include "collector/http/router.h"

#include <spdlog/spdlog.h>

#include "collector/store/event_store.h"

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

void replyForException(const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const HttpError& e) {
    writeError(res, e.status(), e.what());
  } catch (const StoreError& e) {
    switch (e.kind()) {
      case StoreError::Kind::badCursor:
        writeError(res, 400, std::string("cursor: ") + e.what());
        break;
      case StoreError::Kind::full:
        writeError(res, 507, e.what());
        break;
      default:
        spdlog::error("{} {}: {}", req.method, req.path, e.what());
        writeError(res, 500, std::string("store error: ") + e.what());
    }
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", req.method, req.path, e.what());
    writeError(res, 500, std::string("internal error: ") + e.what());
  } catch (...) {
    writeError(res, 500, "internal error");
  }
}
}  // namespace

void writeError(httplib::Response& response, int status, const std::string& message) {
  response.status = status;
  response.set_content(nlohmann::json{{"error", message}}.dump(), kJson);
}

Router::Router(httplib::Server& server) : server_(server) {
  // cpp-httplib calls the error handler for every status >= 400; fill only empty bodies (its own
  // 404/413/... answers), keeping the JSON errors our handlers wrote.
  server_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 404) {
          writeError(res, 404, "no route for " + req.method + " " + req.path);
        } else {
          writeError(res, res.status, reasonFor(res.status));
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_.set_exception_handler(replyForException);
}

httplib::Server::Handler Router::wrap(JsonHandler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    try {
      JsonReply reply = handler(req);
      res.status = reply.status;
      if (!reply.text.empty()) {
        res.set_content(std::move(reply.text), kJson);
      } else {
        res.set_content(reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        kJson);
      }
    } catch (...) {
      replyForException(req, res, std::current_exception());
    }
  };
}

void Router::get(const std::string& pattern, JsonHandler handler) {
  server_.Get(pattern, wrap(std::move(handler)));
}

void Router::post(const std::string& pattern, JsonHandler handler) {
  server_.Post(pattern, wrap(std::move(handler)));
}

void Router::getRaw(const std::string& pattern, RawHandler handler) {
  server_.Get(pattern,
              [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
                try {
                  handler(req, res);
                } catch (...) {
                  replyForException(req, res, std::current_exception());
                }
              });
}

}  // namespace octolaunch::http
