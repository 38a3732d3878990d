#include "agent/services/health_thread.h"

#include <future>

namespace octolaunch::services {

HealthThread::HealthThread(const agent::AgentConfig& config, EventSink& sink, const Clock& clock,
                           std::function<void()> wake) {
  HealthSetup setup = makeHealthSource(io_, config, sink, clock, std::move(wake));
  warnings_ = std::move(setup.warnings);
  if (!setup.source) return;
  source_ = std::move(setup.source);
  // The source is the io thread's from here on: started there, and (in stop()) destroyed there.
  std::promise<void> started;
  auto ready = started.get_future();
  sources::asio::post(io_, [this, &started] {
    source_->start();
    started.set_value();
  });
  thread_ = std::thread([this] { io_.run(); });
  ready.wait();
}

HealthThread::~HealthThread() { stop(); }

void HealthThread::stop() {
  if (!thread_.joinable()) return;
  sources::asio::post(io_, [this] {
    source_->stop();
    source_.reset();
    io_.stop();
  });
  thread_.join();
}

}  // namespace octolaunch::services
