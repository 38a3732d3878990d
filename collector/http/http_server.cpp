#include "collector/http/http_server.h"

#include <stdexcept>

#include "collector/http/routes/routes.h"

namespace octolaunch::http {

namespace {
void setTimeout(unsigned ms, const std::function<void(time_t, time_t)>& set) {
  set(static_cast<time_t>(ms / 1000), static_cast<time_t>((ms % 1000) * 1000));
}
}  // namespace

HttpServer::HttpServer(ApiContext& api, const HttpOptions& options) : router_(server_) {
  const unsigned threads = options.threads;
  server_.new_task_queue = [threads]() { return new httplib::ThreadPool(threads); };
  setTimeout(options.readTimeoutMs, [&](time_t s, time_t us) { server_.set_read_timeout(s, us); });
  setTimeout(options.writeTimeoutMs,
             [&](time_t s, time_t us) { server_.set_write_timeout(s, us); });
  server_.set_keep_alive_timeout(
      static_cast<time_t>(std::max(1u, (options.keepAliveTimeoutMs + 999) / 1000)));
  server_.set_keep_alive_max_count(1000);
  server_.set_payload_max_length(options.maxBodyBytes);
  registerAllRoutes(router_, api);
}

int HttpServer::bind(const std::string& host, int port) {
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  if (port == 0) {
    int chosen = server_.bind_to_any_port(bare);
    if (chosen < 0) throw std::runtime_error("cannot listen on " + host + ":0 (HTTP)");
    return chosen;
  }
  if (!server_.bind_to_port(bare, port)) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + " (HTTP)");
  }
  return port;
}

bool HttpServer::run() { return server_.listen_after_bind(); }

void HttpServer::stop() { server_.stop(); }

}  // namespace octolaunch::http
