#include "agent/sources/health/health_probe.h"

#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>

#include "agent/config/agent_config.h"
#include "agent/services/shell_command.h"

namespace octolaunch::sources {

using services::HealthProbeConfig;
using services::HttpUrl;
using services::ProbeType;

namespace {

namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::uint64_t kMaxHttpBody = 64 * 1024;

// The shared part of a run: the deadline, the latency and the one call to `done`.
class ProbeOp : public AsioHealthProber::Operation, public std::enable_shared_from_this<ProbeOp> {
 public:
  ProbeOp(asio::io_context& io, const HealthProbeConfig& probe, HealthProber::Done done)
      : io_(io),
        probe_(probe),
        done_(std::move(done)),
        deadline_(io),
        started_(std::chrono::steady_clock::now()) {}

  virtual void start() = 0;
  void cancel() override {
    if (finished_) return;
    cancelled_ = true;
    abort();
  }

 protected:
  // Stops the I/O in flight; its handlers then call finish().
  virtual void abort() = 0;

  void armDeadline() {
    deadline_.expires_after(probe_.timeout);
    deadline_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->finished_) return;
      self->timedOut_ = true;
      self->abort();
    });
  }

  void finish(bool healthy, std::string status, std::string error) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    ProbeResult result;
    result.healthy = healthy && !timedOut_ && !cancelled_;
    result.status = std::move(status);
    result.error = std::move(error);
    if (timedOut_)
      result.error = "timed out after " + std::to_string(probe_.timeout.count()) + " ms";
    if (cancelled_) result.error = "cancelled";
    result.latencyMs =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - started_)
                                       .count());
    // Posted, so `done` never runs inside run() even when a probe fails at once.
    asio::post(io_, [done = std::move(done_), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  asio::io_context& io_;
  const HealthProbeConfig probe_;

 private:
  HealthProber::Done done_;
  asio::steady_timer deadline_;
  std::chrono::steady_clock::time_point started_;
  bool finished_ = false;
  bool timedOut_ = false;
  bool cancelled_ = false;
};

// Resolves and connects; the base of the http and tcp probes.
class ConnectingOp : public ProbeOp {
 public:
  using ProbeOp::ProbeOp;

 protected:
  void connect(const std::string& host, std::uint16_t port) {
    host_ = host;
    port_ = port;
    armDeadline();
    resolver_.async_resolve(
        host, std::to_string(port),
        [self = sharedThis()](const error_code& ec, tcp::resolver::results_type results) {
          if (ec) return self->finish(false, "", "resolve " + self->host_ + ": " + ec.message());
          asio::async_connect(
              self->socket_, results, [self](const error_code& ec2, const tcp::endpoint&) {
                if (ec2) {
                  return self->finish(false, "", "connect " + self->where() + ": " + ec2.message());
                }
                self->connected();
              });
        });
  }
  virtual void connected() = 0;
  void abort() override {
    resolver_.cancel();
    error_code ignored;
    socket_.close(ignored);
  }
  std::string where() const {
    return (host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_) + ":" +
           std::to_string(port_);
  }
  std::shared_ptr<ConnectingOp> sharedThis() {
    return std::static_pointer_cast<ConnectingOp>(shared_from_this());
  }

  tcp::resolver resolver_{io_};
  tcp::socket socket_{io_};
  std::string host_;
  std::uint16_t port_ = 0;
};

class TcpOp final : public ConnectingOp {
 public:
  using ConnectingOp::ConnectingOp;
  void start() override {
    try {
      auto [host, port] = agent::splitHostPort(probe_.address, "address");
      connect(host, port);
    } catch (const std::exception& e) {
      finish(false, "", e.what());
    }
  }

 private:
  void connected() override {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    finish(true, "connected", "");
  }
};

class HttpOp final : public ConnectingOp {
 public:
  using ConnectingOp::ConnectingOp;
  void start() override {
    auto url = services::parseHttpUrl(probe_.url);
    if (!url) return finish(false, "", "not an http:// URL: " + probe_.url);
    url_ = *url;
    connect(url_.host, url_.port);
  }

 private:
  void connected() override {
    request_.method(http::verb::get);
    request_.target(url_.target);
    request_.version(11);
    const bool ipv6 = url_.host.find(':') != std::string::npos;
    request_.set(http::field::host, (ipv6 ? "[" + url_.host + "]" : url_.host) +
                                        (url_.port == 80 ? "" : ":" + std::to_string(url_.port)));
    request_.set(http::field::user_agent, "octolaunch-agent health probe");
    request_.set(http::field::connection, "close");
    auto self = std::static_pointer_cast<HttpOp>(shared_from_this());
    http::async_write(socket_, request_, [self](const error_code& ec, std::size_t) {
      if (ec)
        return self->finish(false, "", "send request to " + self->where() + ": " + ec.message());
      self->parser_.body_limit(kMaxHttpBody);
      http::async_read(
          self->socket_, self->buffer_, self->parser_, [self](const error_code& ec2, std::size_t) {
            // A body over the limit still told us the status: judge by the status when it arrived.
            if (ec2 && !(ec2 == http::error::body_limit && self->parser_.is_header_done())) {
              return self->finish(false, "",
                                  "read response from " + self->where() + ": " + ec2.message());
            }
            const unsigned status = self->parser_.get().result_int();
            error_code ignored;
            self->socket_.close(ignored);
            if (status == self->probe_.expectStatus)
              return self->finish(true, std::to_string(status), "");
            self->finish(false, std::to_string(status),
                         "expected status " + std::to_string(self->probe_.expectStatus) + ", got " +
                             std::to_string(status));
          });
    });
  }

  HttpUrl url_;
  http::request<http::empty_body> request_;
  boost::beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
};

// The command's output is read and dropped (so it never blocks on a full pipe) and is not
// reported: it could hold anything, and values must not leave the host.
class CommandOp final : public ProbeOp {
 public:
  using ProbeOp::ProbeOp;
  void start() override {
    try {
      child_.emplace(services::spawnShell(probe_.command, probe_.runAs));
    } catch (const std::exception& e) {
      return finish(false, "", std::string("cannot start: ") + e.what());
    }
    pidfd_.assign(child_->releasePidfd());
    out_.assign(child_->releaseOutFd());
    armDeadline();
    auto self = std::static_pointer_cast<CommandOp>(shared_from_this());
    pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                      [self](const error_code&) { self->exited(); });
    readOutput();
  }

 private:
  void readOutput() {
    auto self = std::static_pointer_cast<CommandOp>(shared_from_this());
    out_.async_read_some(asio::buffer(discard_), [self](const error_code& ec, std::size_t) {
      if (!ec) self->readOutput();
    });
  }
  void exited() {
    if (!child_) return;
    const std::optional<int> status = child_->reap();
    child_.reset();
    error_code ignored;
    out_.close(ignored);
    pidfd_.close(ignored);
    if (!status) return finish(false, "", "exit status unknown (waitpid failed)");
    const int code = services::exitCodeOf(*status);
    finish(code == 0, std::to_string(code), code == 0 ? "" : services::describeWaitStatus(*status));
  }
  void abort() override {
    if (child_) child_->killGroup();  // the pidfd then becomes readable: exited() reports
  }

  std::optional<services::SpawnedCommand> child_;
  asio::posix::stream_descriptor pidfd_{io_};
  asio::posix::stream_descriptor out_{io_};
  std::array<char, 4096> discard_{};
};

}  // namespace

AsioHealthProber::~AsioHealthProber() { cancelAll(); }

void AsioHealthProber::run(const HealthProbeConfig& probe, Done done) {
  std::shared_ptr<ProbeOp> op;
  switch (probe.type) {
    case ProbeType::http:
      op = std::make_shared<HttpOp>(io_, probe, std::move(done));
      break;
    case ProbeType::tcp:
      op = std::make_shared<TcpOp>(io_, probe, std::move(done));
      break;
    case ProbeType::command:
      op = std::make_shared<CommandOp>(io_, probe, std::move(done));
      break;
  }
  running_.remove_if([](const std::weak_ptr<Operation>& w) { return w.expired(); });
  running_.push_back(op);
  op->start();
}

void AsioHealthProber::cancelAll() {
  for (auto& weak : running_) {
    if (auto op = weak.lock()) op->cancel();
  }
  running_.clear();
}

}  // namespace octolaunch::sources
