#include "agent/sources/health/health_monitor.h"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace octolaunch::sources {

using boost::system::error_code;
using services::DeployRecord;
using services::ServiceConfig;

HealthMonitor::HealthMonitor(asio::io_context& io, std::vector<ServiceConfig> services,
                             HealthProber& prober, EventOut& out, std::filesystem::path deploysDir)
    : io_(io), prober_(prober), out_(out), deploysDir_(std::move(deploysDir)), inotify_(io) {
  for (auto& config : services) {
    if (config.health.empty()) continue;
    auto service = std::make_unique<ServiceState>();
    service->config = std::move(config);
    for (const auto& probeConfig : service->config.health) {
      auto probe = std::make_unique<ProbeState>();
      probe->service = service.get();
      probe->config = probeConfig;
      probe->timer = std::make_unique<asio::steady_timer>(io_);
      service->probes.push_back(std::move(probe));
    }
    services_.push_back(std::move(service));
  }
}

HealthMonitor::~HealthMonitor() = default;

bool HealthMonitor::start() {
  if (services_.empty()) return false;
  if (!watchDeploys()) {
    spdlog::warn("health: not watching {} for deploys; probes run on their slow interval only",
                 deploysDir_.string());
  }
  rescanRecords(true);
  std::size_t probes = 0;
  for (auto& service : services_) {
    for (auto& probe : service->probes) {
      schedule(*probe, std::chrono::milliseconds(0));
      ++probes;
    }
  }
  spdlog::info("health: {} probe(s) for {} service(s)", probes, services_.size());
  return true;
}

void HealthMonitor::stop() {
  stopped_ = true;
  for (auto& service : services_) {
    for (auto& probe : service->probes) probe->timer->cancel();
  }
  prober_.cancelAll();
  error_code ignored;
  inotify_.close(ignored);
}

HealthMonitor::ServiceState* HealthMonitor::findService(const std::string& name) {
  for (auto& service : services_) {
    if (service->config.name == name) return service.get();
  }
  return nullptr;
}

std::chrono::milliseconds HealthMonitor::nextDelay(const ProbeState& probe) const {
  const ServiceState& service = *probe.service;
  if (std::chrono::steady_clock::now() < service.watchUntil)
    return service.config.healthWatchInterval;
  return service.config.healthInterval;
}

void HealthMonitor::schedule(ProbeState& probe, std::chrono::milliseconds delay) {
  const std::uint64_t generation = ++probe.timerGeneration;
  probe.timer->expires_after(delay);
  probe.timer->async_wait(
      [this, alive = std::weak_ptr<int>(alive_), &probe, generation](const error_code& ec) {
        // A cancelled or superseded timer (a deploy re-armed it) does nothing.
        if (ec || alive.expired() || stopped_ || generation != probe.timerGeneration) return;
        runProbe(probe);
      });
}

void HealthMonitor::runProbe(ProbeState& probe) {
  if (probe.running) {  // still running from before: run again as soon as it is done
    probe.runAgainAtOnce = true;
    return;
  }
  probe.running = true;
  ++stats_.runs;
  const std::uint64_t deployGeneration = probe.service->deployGeneration;
  prober_.run(probe.config, [this, alive = std::weak_ptr<int>(alive_), &probe,
                             deployGeneration](ProbeResult result) {
    if (alive.expired() || stopped_) return;
    probe.running = false;
    onResult(probe, deployGeneration, result);
    if (probe.runAgainAtOnce) {
      probe.runAgainAtOnce = false;
      schedule(probe, std::chrono::milliseconds(0));
    } else {
      schedule(probe, nextDelay(probe));
    }
  });
}

void HealthMonitor::onResult(ProbeState& probe, std::uint64_t deployGeneration,
                             const ProbeResult& result) {
  // A run that started before the latest deploy says nothing about the new release.
  if (deployGeneration != probe.service->deployGeneration) return;
  if (!result.healthy) {
    if (probe.state != State::failing) {
      emit(probe, true, result);
      probe.state = State::failing;
    }
  } else if (probe.state == State::failing) {
    emit(probe, false, result);
    probe.state = State::healthy;
  } else {
    probe.state = State::healthy;
  }
}

void HealthMonitor::emit(ProbeState& probe, bool failed, const ProbeResult& result) {
  const ServiceState& service = *probe.service;
  EventBatch batch;
  auto event = batch.add(out_.clock().nowNs());
  event.setService(service.config.name.c_str());
  event.setRelease(service.release.c_str());
  auto payload = event.getPayload();
  auto health = failed ? payload.initHealthFailed() : payload.initHealthRecovered();
  health.setProbe(std::string(probeTypeName(probe.config.type)).c_str());
  health.setTarget(probe.config.target().c_str());
  health.setStatus(result.status.c_str());
  health.setError(result.error.c_str());
  health.setLatencyMs(result.latencyMs);
  if (!out_.publish(batch)) ++stats_.heldEvents;
  ++(failed ? stats_.failedEvents : stats_.recoveredEvents);
  if (failed) {
    spdlog::warn("health: {} {} {} failed: {}", service.config.name,
                 probeTypeName(probe.config.type), probe.config.target(), result.error);
  } else {
    spdlog::info("health: {} {} {} recovered", service.config.name,
                 probeTypeName(probe.config.type), probe.config.target());
  }
}

void HealthMonitor::deployFinished(const DeployRecord& record) { applyRecord(record, false); }

void HealthMonitor::applyRecord(const DeployRecord& record, bool atStart) {
  ServiceState* service = findService(record.service);
  if (service == nullptr || stopped_) return;
  // inotify may report one rename more than once, and a rescan re-reads every record.
  if (record.timeNs == service->lastDeployNs && record.release == service->release) return;
  service->lastDeployNs = record.timeNs;
  service->release = record.release;
  ++stats_.deploysSeen;
  const std::int64_t ageMs =
      std::max<std::int64_t>(0, (out_.clock().nowNs() - record.timeNs) / 1'000'000);
  const auto left = service->config.healthWatch - std::chrono::milliseconds(ageMs);
  service->watchUntil = left.count() > 0 ? std::chrono::steady_clock::now() + left
                                         : std::chrono::steady_clock::time_point{};
  if (atStart) return;  // start() schedules every probe at once anyway
  ++service->deployGeneration;
  spdlog::info("health: {} release {} finished deploying; watching for {} ms", service->config.name,
               record.release, left.count() > 0 ? left.count() : 0);
  for (auto& probe : service->probes) {
    probe->state = State::unknown;
    schedule(*probe, std::chrono::milliseconds(0));
  }
}

bool HealthMonitor::watchDeploys() {
  if (::mkdir(deploysDir_.c_str(), 02770) == 0) {
    ::chmod(deploysDir_.c_str(), 02770);
  } else if (errno != EEXIST) {
    spdlog::warn("health: cannot create {}: {}", deploysDir_.string(), std::strerror(errno));
    return false;
  }
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    spdlog::warn("health: inotify_init1: {}", std::strerror(errno));
    return false;
  }
  if (::inotify_add_watch(fd, deploysDir_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    spdlog::warn("health: cannot watch {}: {}", deploysDir_.string(), std::strerror(errno));
    ::close(fd);
    return false;
  }
  inotify_.assign(fd);
  readInotify();
  return true;
}

void HealthMonitor::readInotify() {
  inotify_.async_read_some(
      asio::buffer(inotifyBuffer_),
      [this, alive = std::weak_ptr<int>(alive_)](const error_code& ec, std::size_t size) {
        if (ec || alive.expired() || stopped_) return;
        std::size_t offset = 0;
        bool overflow = false;
        while (offset + sizeof(inotify_event) <= size) {
          inotify_event header;
          std::memcpy(&header, inotifyBuffer_.data() + offset, sizeof header);
          if (header.mask & IN_Q_OVERFLOW) overflow = true;
          if (header.len > 0) {
            const char* name = inotifyBuffer_.data() + offset + sizeof(inotify_event);
            std::string fileName(name, ::strnlen(name, header.len));
            if (!fileName.empty() && fileName.front() != '.') readRecord(fileName);
          }
          offset += sizeof(inotify_event) + header.len;
        }
        if (overflow) rescanRecords(false);
        readInotify();
      });
}

void HealthMonitor::readRecord(const std::string& fileName) {
  if (findService(fileName) == nullptr) return;
  std::string error;
  auto record = services::readDeployRecord(deploysDir_ / fileName, &error);
  if (!record || record->service != fileName) {
    spdlog::warn("health: ignoring deploy record {}",
                 record ? fileName + ": names another service" : error);
    return;
  }
  applyRecord(*record, false);
}

void HealthMonitor::rescanRecords(bool atStart) {
  for (auto& service : services_) {
    std::error_code ec;
    const auto file = deploysDir_ / service->config.name;
    if (!std::filesystem::exists(file, ec)) continue;
    std::string error;
    if (auto record = services::readDeployRecord(file, &error);
        record && record->service == service->config.name) {
      applyRecord(*record, atStart);
    }
  }
}

}  // namespace octolaunch::sources
