#include "collector/http/api_http_service.h"

#include <kj/debug.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "collector/http/router.h"

namespace octolaunch::http {

namespace {

constexpr std::size_t kMaxTargetBytes = 8192;
constexpr std::size_t kReadBytes = 64 * 1024;

const char* reasonFor(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 500:
      return "Internal Server Error";
    case 507:
      return "Insufficient Storage";
    default:
      return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

// The request line and headers as the Router reads them: path decoded, query split into params.
httplib::Request toRequest(kj::HttpMethod method, kj::StringPtr url,
                           const kj::HttpHeaders& headers) {
  httplib::Request req;
  req.method = kj::str(method).cStr();
  req.version = "HTTP/1.1";
  req.target = url.cStr();
  const std::size_t query = req.target.find('?');
  req.path = httplib::detail::decode_url(req.target.substr(0, query), false);
  if (query != std::string::npos && query + 1 < req.target.size()) {
    httplib::detail::parse_query_text(req.target.substr(query + 1), req.params);
  }
  headers.forEach([&req](kj::StringPtr name, kj::StringPtr value) {
    req.headers.emplace(name.cStr(), value.cStr());
  });
  return req;
}

enum class BodyEnd { complete, tooLarge, tooSlow, malformed };

// Reads one request body into body, within the limits. Owned by the request's promise.
class BodyReader final {
 public:
  BodyReader(kj::AsyncInputStream& in, kj::Timer& timer, const HttpOptions& options)
      : in_(in), timer_(timer), options_(options), start_(timer.now()) {}

  // Resolves when the body ended or broke a limit. Rejects only when the client went away.
  kj::Promise<BodyEnd> read() {
    const kj::TimePoint now = timer_.now();
    kj::TimePoint due = now + options_.readTimeoutMs * kj::MILLISECONDS;
    if (options_.minBodyBytesPerSecond > 0) due = std::min(due, rateDue());
    if (due <= now) return BodyEnd::tooSlow;
    const std::size_t room = std::min(kReadBytes, options_.maxBodyBytes - body.size() + 1);
    return in_.tryRead(buffer_, 1, room)
        .then(
            [this](std::size_t n) -> kj::Promise<BodyEnd> {
              if (n == 0) return BodyEnd::complete;
              body.append(reinterpret_cast<const char*>(buffer_), n);
              if (body.size() > options_.maxBodyBytes) return BodyEnd::tooLarge;
              return read();
            },
            [](kj::Exception&& e) -> kj::Promise<BodyEnd> {
              if (e.getType() == kj::Exception::Type::DISCONNECTED) return kj::mv(e);
              return BodyEnd::malformed;  // e.g. a bad chunk size
            })
        .exclusiveJoin(timer_.atTime(due).then([] { return BodyEnd::tooSlow; }));
  }

  std::string body;

 private:
  // When the body falls below the minimum average rate, counted after the first readTimeoutMs.
  // minBodyBytesPerSecond > 0.
  kj::TimePoint rateDue() const {
    const auto allowedMs =
        static_cast<std::int64_t>(options_.readTimeoutMs) +
        static_cast<std::int64_t>(body.size() * 1000 / options_.minBodyBytesPerSecond);
    return start_ + allowedMs * kj::MILLISECONDS;
  }

  kj::AsyncInputStream& in_;
  kj::Timer& timer_;
  const HttpOptions& options_;
  const kj::TimePoint start_;
  kj::byte buffer_[kReadBytes];
};

bool asksToClose(const kj::HttpHeaders& headers) {
  KJ_IF_MAYBE (value, headers.get(kj::HttpHeaderId::CONNECTION)) {
    std::string lower = value->cStr();
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.find("close") != std::string::npos;
  }
  return false;
}

class ConnectionService final : public kj::HttpService {
 public:
  ConnectionService(kj::HttpService& service, kj::AsyncIoStream& connection)
      : service_(service), connection_(connection) {}

  kj::Promise<void> request(kj::HttpMethod method, kj::StringPtr url,
                            const kj::HttpHeaders& headers, kj::AsyncInputStream& requestBody,
                            Response& response) override {
    kj::Promise<void> answered = service_.request(method, url, headers, requestBody, response);
    if (!asksToClose(headers)) return answered;
    return answered.then([this] { connection_.shutdownWrite(); });
  }

 private:
  kj::HttpService& service_;
  kj::AsyncIoStream& connection_;
};

}  // namespace

kj::Own<kj::HttpService> ApiHttpService::forConnection(kj::AsyncIoStream& connection) {
  return kj::heap<ConnectionService>(*this, connection);
}

std::string HttpCounters::prometheus() const {
  auto counter = [](const char* name, const char* help, const std::atomic<std::uint64_t>& value,
                    const char* type = "counter") {
    return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value.load(std::memory_order_relaxed)) + "\n";
  };
  return counter("octolaunch_http_connections_open", "HTTP connections open now.", openConnections,
                 "gauge") +
         counter("octolaunch_http_connections_refused_total",
                 "HTTP connections closed at once because max_connections were open.",
                 refusedConnections) +
         counter("octolaunch_http_body_too_large_total",
                 "HTTP requests refused with 413 (body over max_body_bytes).", bodyTooLarge) +
         counter("octolaunch_http_body_too_slow_total",
                 "HTTP requests refused with 408 (body paused or below the minimum rate).",
                 bodyTooSlow) +
         counter("octolaunch_http_bad_requests_total",
                 "Malformed HTTP requests (request line, headers, chunked body).", badRequests);
}

ApiHttpService::ApiHttpService(HandlerPool& pool, const HttpOptions& options, kj::Timer& timer,
                               const kj::HttpHeaderTable& headerTable, HttpCounters& counters)
    : pool_(pool),
      options_(options),
      timer_(timer),
      headerTable_(headerTable),
      counters_(counters) {}

kj::Promise<void> ApiHttpService::request(kj::HttpMethod method, kj::StringPtr url,
                                          const kj::HttpHeaders& headers,
                                          kj::AsyncInputStream& requestBody, Response& response) {
  if (url.size() > kMaxTargetBytes) {
    ++counters_.badRequests;
    return sendError(response, 414, "request URI too long");
  }
  KJ_IF_MAYBE (length, requestBody.tryGetLength()) {
    if (*length > options_.maxBodyBytes) {
      ++counters_.bodyTooLarge;
      return sendError(response, 413, "request body too large");
    }
  }
  auto reader = std::make_unique<BodyReader>(requestBody, timer_, options_);
  BodyReader& body = *reader;
  return body.read()
      .then([this, &response, &body,
             req = toRequest(method, url, headers)](BodyEnd end) mutable -> kj::Promise<void> {
        switch (end) {
          case BodyEnd::complete:
            break;
          case BodyEnd::tooLarge:
            ++counters_.bodyTooLarge;
            return sendError(response, 413, "request body too large");
          case BodyEnd::tooSlow:
            ++counters_.bodyTooSlow;
            return sendError(response, 408, "request body too slow");
          case BodyEnd::malformed:
            ++counters_.badRequests;
            return sendError(response, 400, "body: malformed chunked encoding");
        }
        req.body = std::move(body.body);
        return pool_.dispatch(std::move(req)).then([this, &response](httplib::Response reply) {
          return send(response, std::move(reply));
        });
      })
      .attach(std::move(reader));
}

kj::Promise<void> ApiHttpService::send(Response& response, httplib::Response reply) {
  if (reply.status == -1) reply.status = 200;      // a raw handler that set only the content
  if (reply.status < 100 || reply.status > 599) {  // a handler that wrote nothing: our bug
    spdlog::error("HTTP handler left status {}", reply.status);
    reply = httplib::Response();
    writeError(reply, 500, "internal error");
  }
  kj::HttpHeaders headers(headerTable_);
  for (const auto& [name, value] : reply.headers) {
    if (name == "Content-Length" || name == "Connection" || name == "Transfer-Encoding") continue;
    headers.add(kj::heapString(name), kj::heapString(value));
  }
  auto body = std::make_unique<std::string>(std::move(reply.body));
  kj::Own<kj::AsyncOutputStream> out =
      response.send(static_cast<kj::uint>(reply.status), reasonFor(reply.status), headers,
                    static_cast<std::uint64_t>(body->size()));
  kj::Promise<void> written = out->write(body->data(), body->size());
  return written.attach(kj::mv(out), std::move(body))
      .exclusiveJoin(timer_.afterDelay(options_.writeTimeoutMs * kj::MILLISECONDS).then([] {
        return kj::Promise<void>(
            KJ_EXCEPTION(DISCONNECTED, "the client did not take its response in time"));
      }));
}

kj::Promise<void> ApiHttpService::sendError(Response& response, int status,
                                            const std::string& message) {
  httplib::Response reply;
  writeError(reply, status, message);
  return send(response, std::move(reply));
}

kj::Promise<void> ApiHttpService::handleClientProtocolError(
    kj::HttpHeaders::ProtocolError protocolError, Response& response) {
  ++counters_.badRequests;
  const int status = protocolError.statusCode >= 400 && protocolError.statusCode < 500
                         ? static_cast<int>(protocolError.statusCode)
                         : 400;
  return sendError(response, status, std::string("request: ") + protocolError.description.cStr());
}

kj::Promise<void> ApiHttpService::handleApplicationError(kj::Exception exception,
                                                         kj::Maybe<Response&> response) {
  // The client went away or did not take its response: nobody to answer.
  if (exception.getType() == kj::Exception::Type::DISCONNECTED) return kj::READY_NOW;
  const std::string description = exception.getDescription().cStr();
  KJ_IF_MAYBE (r, response) {
    // kj-http 0.9.2 reads the body framing (Content-Length, Transfer-Encoding) before it calls
    // request() and throws FAILED from its own source for a value it cannot use: the client's
    // error, not ours.
    if (exception.getType() == kj::Exception::Type::FAILED &&
        kj::StringPtr(exception.getFile()).endsWith("compat/http.c++")) {
      ++counters_.badRequests;
      return sendError(*r, 400, "request: " + description);
    }
    spdlog::error("HTTP request failed: {}", description);
    return sendError(*r, 500, "internal error");
  }
  // Before a request was parsed (e.g. over 128 KiB of headers) or after the answer was sent:
  // the connection is closed without an answer.
  ++counters_.badRequests;
  spdlog::debug("HTTP connection closed: {}", description);
  return kj::READY_NOW;
}

kj::Promise<void> ApiHttpService::handleNoResponse(Response& response) {
  spdlog::error("HTTP request ended without a response");
  return sendError(response, 500, "internal error");
}

}  // namespace octolaunch::http
