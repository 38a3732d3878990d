#include "agent/sources/containers/docker_api.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace octolaunch::sources {

namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;

namespace {

constexpr std::size_t kBodyLimit = 4u << 20;
constexpr std::size_t kLineLimit = 1u << 20;

http::request<http::empty_body> request(const std::string& path, bool keepAlive) {
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, "docker");
  req.set(http::field::user_agent, "octolaunch-agent");
  req.keep_alive(keepAlive);
  return req;
}

}  // namespace

asio::awaitable<ApiReply> apiGet(std::string socketPath, std::string path,
                                 std::chrono::milliseconds timeout) {
  ApiReply reply;
  auto executor = co_await asio::this_coro::executor;
  beast::basic_stream<local, asio::any_io_executor, beast::unlimited_rate_policy> stream(executor);
  beast::error_code ec;
  stream.expires_after(timeout);
  co_await stream.async_connect(local::endpoint(socketPath),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    reply.error = "connect " + socketPath + ": " + ec.message();
    co_return reply;
  }
  auto req = request(path, false);
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    reply.error = "write: " + ec.message();
    co_return reply;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    reply.error = "read: " + ec.message();
    co_return reply;
  }
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  beast::error_code ignored;
  stream.socket().shutdown(local::socket::shutdown_both, ignored);
  co_return reply;
}

asio::awaitable<std::string> apiStreamLines(std::string socketPath, std::string path,
                                            std::function<void(std::string_view)> onLine,
                                            std::function<void()>& cancel,
                                            std::function<void()> onConnected) {
  auto executor = co_await asio::this_coro::executor;
  local::socket socket(executor);
  cancel = [&socket] {
    beast::error_code ignored;
    socket.close(ignored);
  };
  struct Reset {
    std::function<void()>& cancel;
    ~Reset() { cancel = nullptr; }
  } reset{cancel};

  beast::error_code ec;
  co_await socket.async_connect(local::endpoint(socketPath),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return "connect " + socketPath + ": " + ec.message();
  auto req = request(path, true);
  co_await http::async_write(socket, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return "write: " + ec.message();

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  co_await http::async_read_header(socket, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return "read: " + ec.message();
  if (parser.get().result_int() != 200)
    co_return "GET " + path + ": HTTP " + std::to_string(parser.get().result_int());
  if (onConnected) onConnected();

  std::string pending;
  char chunk[8192];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    // read_some: hand over what has arrived (async_read would wait until the buffer is full).
    co_await http::async_read_some(socket, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return "read: " + ec.message();
    const std::size_t got = sizeof chunk - parser.get().body().size;
    pending.append(chunk, got);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start) onLine(std::string_view(pending).substr(start, nl - start));
    }
    pending.erase(0, start);
    if (pending.size() > kLineLimit) pending.clear();  // not an event stream we understand
  }
  co_return std::string();
}

}  // namespace octolaunch::sources
