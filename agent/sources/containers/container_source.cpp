#include "agent/sources/containers/container_source.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "agent/sources/containers/docker_api.h"

namespace octolaunch::sources {

namespace {

constexpr auto kInspectTimeout = std::chrono::seconds(5);
constexpr std::size_t kOomIdsKept = 256;
constexpr std::size_t kAtStartInspected = 100;  // dead containers inspected at start, newest first
constexpr std::size_t kOciLogMax = 64 * 1024;

bool isSocket(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

std::string sinceParam(std::int64_t ns) {
  const std::int64_t sec = ns / 1'000'000'000;
  const std::int64_t frac = ns % 1'000'000'000;
  char text[40];
  std::snprintf(text, sizeof text, "%lld.%09lld", static_cast<long long>(sec),
                static_cast<long long>(frac));
  return text;
}

}  // namespace

ContainerSource::ContainerSource(asio::io_context& io, EventOut& out, ContainersConfig config,
                                 ServiceMap* services)
    : io_(io), out_(out), config_(std::move(config)), services_(services), backoff_(io) {}

ContainerSource::~ContainerSource() = default;

std::string ContainerSource::pickSocket() const {
  for (const auto& path : config_.sockets) {
    if (isSocket(path)) return path;
  }
  return {};
}

bool ContainerSource::start() {
  socket_ = pickSocket();
  if (socket_.empty()) {
    std::string list;
    for (const auto& s : config_.sockets) list += (list.empty() ? "" : ", ") + s;
    spdlog::info("sources: containers: no container engine socket ({}); source off", list);
    return false;
  }
  if (::access(socket_.c_str(), R_OK | W_OK) != 0 && (errno == EACCES || errno == EPERM)) {
    degraded_.set("containers",
                  "cannot connect to " + socket_ + ": " + std::strerror(errno) +
                      " (the agent's user is not in the socket's group); container.failed and "
                      "container.oom are not reported, source off",
                  "only if you accept it: that group (docker) is root-equivalent; add it with a "
                  "drop-in, SupplementaryGroups=docker (docs/architecture.md, \"The agent's "
                  "privileges\")");
    return false;
  }
  ++running_;
  asio::co_spawn(io_, run(), [this](std::exception_ptr e) {
    --running_;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("sources: containers: stopped on an error: {}", ex.what());
      }
    }
  });
  return true;
}

void ContainerSource::stop() {
  stopped_ = true;
  if (cancelStream_) cancelStream_();
  backoff_.cancel();
}

asio::awaitable<void> ContainerSource::run() {
  auto delay = std::chrono::milliseconds(100);
  bool loggedOutage = false;
  bool listed = false;
  while (!stopped_) {
    if (!listed) {
      // The stream then starts where the list was taken: nothing dies unseen in between.
      const std::int64_t listedNs = out_.clock().nowNs();
      listed = co_await reportDeadAtStart();
      if (listed && lastEventNs_ == 0) lastEventNs_ = listedNs;
    }
    std::string path = "/events";
    if (lastEventNs_ > 0) path += "?since=" + sinceParam(lastEventNs_);
    const std::string error = co_await apiStreamLines(
        socket_, path, [this](std::string_view line) { onLine(line); }, cancelStream_,
        [&] {
          connected_ = true;
          ++connects_;
          delay = std::chrono::milliseconds(100);
          spdlog::info("sources: containers: streaming events from {}", socket_);
          loggedOutage = false;
        });
    connected_ = false;
    if (stopped_) break;
    if (!loggedOutage) {
      spdlog::warn("sources: containers: event stream from {} ended{}; reconnecting", socket_,
                   error.empty() ? "" : ": " + error);
      loggedOutage = true;
    }
    backoff_.expires_after(delay);
    boost::system::error_code ec;
    co_await backoff_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    delay = std::min(delay * 2, std::chrono::milliseconds(config_.reconnectMaxMs));
    if (const auto again = pickSocket(); !again.empty()) socket_ = again;
  }
}

void ContainerSource::onLine(std::string_view line) {
  const auto event = parse::parseContainerEvent(line);
  if (!event) return;
  if (event->timeNs > 0) {
    if (event->timeNs <= lastEventNs_) return;  // replayed after a reconnect (?since=)
    lastEventNs_ = event->timeNs;
  }
  if (services_ != nullptr && event->type == "container")
    services_->noteContainer(event->id, event->name);
  if (event->type == "container" && event->action == "oom") {
    oomEventIds_.push_back(event->id);
    if (oomEventIds_.size() > kOomIdsKept) oomEventIds_.pop_front();
  }
  auto failure = tracker_.feed(*event);
  if (!failure) return;
  queue_.push_back(std::move(*failure));
  startDraining();
}

asio::awaitable<bool> ContainerSource::reportDeadAtStart() {
  const auto list = co_await apiGet(socket_, "/containers/json?all=true", kInspectTimeout);
  if (list.status != 200) co_return false;  // the daemon is not there yet: retried at reconnect
  std::string error;
  const auto containers = parse::parseContainerList(list.body, &error);
  if (!containers) {
    spdlog::warn("sources: containers: the container list is not one: {}", error);
    co_return true;
  }
  std::size_t inspected = 0;
  std::size_t failed = 0;
  for (const auto& c : *containers) {
    if (stopped_) co_return true;
    if (services_ != nullptr) services_->noteContainer(c.id, c.name);
    if (c.state != "exited" && c.state != "dead") continue;
    if (++inspected > kAtStartInspected) break;  // the list is newest first
    const auto inspect = co_await apiGet(socket_, "/containers/" + c.id + "/json", kInspectTimeout);
    if (inspect.status != 200) continue;
    const auto parsed = parse::parseContainerInspect(inspect.body);
    if (!parsed || parsed->running || parsed->exitCode <= 0) continue;
    parse::ContainerFailure failure;
    failure.containerId = c.id;
    failure.name = c.name;
    failure.image = c.image;
    failure.action = c.state;
    failure.atStart = true;
    parse::applyInspect(failure, *parsed);
    queue_.push_back(std::move(failure));
    ++failed;
  }
  spdlog::info("sources: containers: {} container(s) dead with a failing exit code at start",
               failed);
  startDraining();
  co_return true;
}

void ContainerSource::startDraining() {
  if (draining_ || queue_.empty()) return;
  draining_ = true;
  ++running_;
  asio::co_spawn(io_, drainFailures(), [this](std::exception_ptr) {
    --running_;
    draining_ = false;
  });
}

asio::awaitable<std::string> ContainerSource::runtimeError(const std::string& id) {
  // podman 4 keeps the OCI runtime's error out of its API (State.Error stays empty), but has the
  // runtime write it to oci-log in the container's run directory, next to conmon's pid file,
  // which podman's own inspect names (served under a version only; Docker answers 404).
  const auto inspect =
      co_await apiGet(socket_, "/v4.0.0/libpod/containers/" + id + "/json", kInspectTimeout);
  if (inspect.status != 200) co_return std::string();
  const auto parsed = parse::parseContainerInspect(inspect.body);
  if (!parsed || parsed->conmonPidFile.empty()) co_return std::string();
  const auto log = std::filesystem::path(parsed->conmonPidFile).parent_path() / "oci-log";
  std::ifstream in(log, std::ios::binary);
  std::string text(kOciLogMax, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  co_return parse::ociLogError(text, parsed->ociRuntime).value_or(std::string());
}

asio::awaitable<void> ContainerSource::drainFailures() {
  while (!queue_.empty() && !stopped_) {
    parse::ContainerFailure failure = std::move(queue_.front());
    queue_.pop_front();
    const auto inspect =
        co_await apiGet(socket_, "/containers/" + failure.containerId + "/json", kInspectTimeout);
    std::string imageRef = failure.image;
    if (inspect.status == 200) {
      if (auto parsed = parse::parseContainerInspect(inspect.body)) {
        parse::applyInspect(failure, *parsed);
        if (!parsed->imageId.empty()) imageRef = parsed->imageId;
      }
    } else if (inspect.status == 0) {
      spdlog::warn("sources: containers: inspect {}: {}", failure.containerId, inspect.error);
    }  // 404: removed already (--rm); report what the event said
    if (!imageRef.empty()) {
      const auto image = co_await apiGet(socket_, "/images/" + imageRef + "/json", kInspectTimeout);
      if (image.status == 200) {
        if (auto digests = parse::parseImageRepoDigests(image.body))
          failure.imageDigests = std::move(*digests);
      }
    }
    const bool runtimeFailed =
        failure.action == "start-failed" || failure.exitCode == 126 || failure.exitCode == 127;
    if (runtimeFailed && failure.error.empty())
      failure.error = co_await runtimeError(failure.containerId);
    if (stopped_) break;
    if (failure.action == "start-failed" && failure.error.empty()) {
      // Docker keeps the runtime's message in State.Error; podman 4.3 keeps none for a start
      // that failed in its CLI.
      failure.error = "container never started (the engine recorded no error message)";
    }
    EventBatch batch;
    const std::int64_t timeNs = failure.timeNs > 0 ? failure.timeNs : out_.clock().nowNs();
    auto payload = batch.add(timeNs).getPayload();
    if (failure.kind == parse::ContainerFailure::Kind::oom) {
      parse::fillContainerFailure(payload.initContainerOom(), failure);
    } else {
      parse::fillContainerFailure(payload.initContainerFailed(), failure);
      const bool engineSentOom = std::find(oomEventIds_.begin(), oomEventIds_.end(),
                                           failure.containerId) != oomEventIds_.end();
      if (failure.oomKilled && !engineSentOom) {
        parse::fillContainerFailure(batch.add(timeNs).getPayload().initContainerOom(), failure);
      }
    }
    out_.publish(batch);
  }
}

}  // namespace octolaunch::sources
