#include "agent/sources/source_set.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "agent/services/deploy_record.h"
#include "agent/services/fingerprint_key.h"
#include "agent/sources/cgroup/memory_events_source.h"
#include "agent/sources/containers/container_source.h"
#include "agent/sources/disk/disk_source.h"
#include "agent/sources/disk/fd_source.h"
#include "agent/sources/health/health_source.h"
#include "agent/sources/kmsg/kmsg_source.h"
#include "agent/sources/psi/psi_source.h"

namespace octolaunch::sources {

SourceSet::SourceSet(asio::io_context& io, EventSink& sink, const SourcesConfig& config,
                     const Clock& clock, LineRedactor redact)
    : io_(io),
      config_(config),
      retry_(io),
      services_(config.health.services),
      out_(
          sink, clock, [this] { retryHeldLater(); }, &services_),
      redact_(std::move(redact)) {
  out_.setScope(CgroupScope(config.cgroupScope));
}

void SourceSet::retryHeldLater() {
  if (retryArmed_ || stopped_) return;
  retryArmed_ = true;
  retry_.expires_after(std::chrono::seconds(1));
  retry_.async_wait([this](const boost::system::error_code& ec) {
    retryArmed_ = false;
    if (ec || stopped_) return;
    EventBatch none;
    out_.publish(none);  // on failure, onHold arms the next try
  });
}

SourceSet::~SourceSet() = default;

std::vector<std::string> SourceSet::start() {
  if (config_.enabled) {
    addHostSources();
  } else {
    spdlog::info("sources: all host sources are off (sources.enabled = false)");
  }
  if (auto health = makeHealthSource(io_, out_, config_.health))
    sources_.push_back(std::move(health));
  for (auto& source : sources_) {
    bool started = false;
    try {
      started = source->start();
    } catch (const std::exception& e) {
      spdlog::error("sources: {}: failed to start: {}", source->name(), e.what());
    }
    if (started) running_.emplace_back(source->name());
  }
  std::string list;
  for (const auto& name : running_) list += (list.empty() ? "" : ", ") + name;
  std::string degraded;
  for (const auto& status : statuses()) {
    if (status.state == SourceStatus::State::degraded)
      degraded += (degraded.empty() ? "" : ", ") + status.name;
  }
  spdlog::info("sources: running: {}{}", list.empty() ? "none" : list,
               degraded.empty() ? "" : "; degraded: " + degraded + " (said above)");
  return running_;
}

std::vector<SourceStatus> SourceSet::statuses() const {
  std::vector<SourceStatus> out;
  for (const auto& source : sources_) {
    SourceStatus status{.name = std::string(source->name()), .reason = source->degraded()};
    if (!status.reason.empty()) {
      status.state = SourceStatus::State::degraded;
    } else if (std::find(running_.begin(), running_.end(), status.name) != running_.end()) {
      status.state = SourceStatus::State::running;
    }
    out.push_back(std::move(status));
  }
  return out;
}

std::string_view sourceStateName(SourceStatus::State state) {
  switch (state) {
    case SourceStatus::State::running:
      return "running";
    case SourceStatus::State::degraded:
      return "degraded";
    case SourceStatus::State::off:
      return "off";
  }
  return "off";
}

void SourceSet::addHostSources() {
  std::error_code ec;
  if (!config_.stateDir.empty()) std::filesystem::create_directories(config_.stateDir, ec);
  const auto& c = config_;
  if (c.kmsg.enabled)
    sources_.push_back(std::make_unique<KmsgSource>(io_, out_, ledger_, c.kmsg, c.stateDir));
  if (c.cgroup.enabled)
    sources_.push_back(std::make_unique<MemoryEventsSource>(io_, out_, ledger_, c.cgroup));
  if (c.psi.enabled) sources_.push_back(std::make_unique<PsiSource>(io_, out_, c.psi));
  if (c.disk.enabled) sources_.push_back(std::make_unique<DiskSource>(io_, out_, c.disk));
  if (c.fd.enabled) sources_.push_back(std::make_unique<FdSource>(io_, out_, c.fd));
  if (c.journal.enabled) {
    sources_.push_back(
        std::make_unique<JournalSource>(io_, out_, ledger_, c.journal, c.stateDir, redact_));
  }
  if (c.containers.enabled)
    sources_.push_back(std::make_unique<ContainerSource>(io_, out_, c.containers, &services_));
}

void SourceSet::stop() {
  // A last try for held events first, so that the sources save their positions past them.
  stopped_ = true;
  retry_.cancel();
  EventBatch none;
  if (out_.holding() && !out_.publish(none)) {
    spdlog::error(
        "sources: stopping with captured events the spool did not take; their records will be "
        "read again at the next start");
  }
  for (auto& source : sources_) source->stop();
}

SourcesConfig sourcesConfigFor(const toml::table& raw, const std::filesystem::path& spoolDir) {
  auto config = parseSourcesConfig(raw);
  if (config.stateDir.empty()) config.stateDir = spoolDir;
  for (const auto& warning : config.warnings) spdlog::warn("config: {}", warning);
  auto services = services::parseServicesConfig(raw);
  for (const auto& warning : services.warnings) spdlog::warn("config: {}", warning);
  if (auto warning = services::perHostKeyWarning(services, spoolDir))
    spdlog::warn("config: {}", *warning);
  config.health.services = std::move(services.services);
  config.health.deploysDir = services::deploysDir(spoolDir);
  return config;
}

SourcesThread::SourcesThread(EventSink& sink, const Clock& clock, SourcesConfig config,
                             LineRedactor redact)
    : guard_(io_.get_executor()) {
  set_ = std::make_unique<SourceSet>(io_, sink, config, clock, std::move(redact));
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("sources: a handler failed: {}; going on", e.what());
      }
    }
  });
  std::promise<std::vector<std::string>> started;
  asio::post(io_, [&] { started.set_value(set_->start()); });
  running_ = started.get_future().get();
}

SourcesThread::~SourcesThread() { stop(); }

namespace {

void beatLater(asio::steady_timer& timer, const LoopLiveness& liveness, LoopLiveness::Loop& loop) {
  timer.expires_after(liveness.beatInterval());
  timer.async_wait([&timer, &liveness, &loop](const std::error_code& ec) {
    if (ec) return;  // cancelled: stopping
    loop.beat();
    beatLater(timer, liveness, loop);
  });
}

}  // namespace

void SourcesThread::beatInto(const LoopLiveness& liveness, LoopLiveness::Loop& loop) {
  asio::post(io_, [this, &liveness, &loop] { beatLater(beat_, liveness, loop); });
}

std::vector<SourceStatus> SourcesThread::statuses() {
  if (!thread_.joinable()) return {};
  std::promise<std::vector<SourceStatus>> answer;
  asio::post(io_, [&] { answer.set_value(set_->statuses()); });
  return answer.get_future().get();
}

void SourcesThread::stop() {
  if (!thread_.joinable()) return;
  std::promise<void> stopped;
  asio::post(io_, [&] {
    beat_.cancel();
    set_->stop();
    stopped.set_value();
  });
  stopped.get_future().wait();
  guard_.reset();
  // Handlers finish promptly once their descriptors are closed; a stuck request (an inspect
  // waiting on a hung daemon) is cut off after its own timeout, and at worst here.
  std::thread watchdog([this] {
    for (int i = 0; i < 300 && !io_.stopped(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    io_.stop();
  });
  thread_.join();
  watchdog.join();
  set_.reset();
}

}  // namespace octolaunch::sources
