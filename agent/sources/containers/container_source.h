// container.failed / container.oom from a container engine's Docker Engine API on a unix socket
// (Docker, or podman's Docker-compatible service). Streams GET /events; on die/died with a
// non-zero exit code, on oom, and on a container created and cleaned up without ever starting,
// inspects the container (State.ExitCode, State.Error, State.OOMKilled) and its image
// (RepoDigests: what CI pushed, not the local image id) and emits the event. podman sends no
// "oom" event: a die whose inspect says OOMKilled also yields container.oom unless the engine
// already sent one for that container. Filtering is done here (podman names die "died" and
// ignores Docker-style filters). When the engine's API gives no error for a container whose
// runtime failed (a start failure, exit 126/127), podman's own inspect leads to the runtime's log
// (oci-log), whose error becomes ContainerFailure.error.
//
// At the first connection the containers that are dead (exited/dead, newest 100) with a non-zero
// exit code are reported once as container.failed with atStart; the event stream then starts
// from the time of that list.
//
// The first configured socket that exists is used; none → source off with one log line. When
// the daemon goes away (restart, upgrade) the source reconnects with backoff (100 ms doubling up
// to reconnect_max_ms) and resumes the stream after the last event it saw (?since=).
// Thread: io_context thread only (see source.h).
#pragma once

#include <deque>
#include <functional>
#include <set>
#include <string>

#include "agent/parse/container_events.h"
#include "agent/sources/asio.h"
#include "agent/sources/event_out.h"
#include "agent/sources/service_map.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"

namespace octolaunch::sources {

class ContainerSource final : public Source {
 public:
  // services (may be null; must outlive the source) learns each container's name by id.
  ContainerSource(asio::io_context& io, EventOut& out, ContainersConfig config,
                  ServiceMap* services = nullptr);
  ~ContainerSource() override;
  std::string_view name() const override { return "containers"; }
  bool start() override;
  void stop() override;
  std::string degraded() const override { return degraded_.text(); }

  bool connected() const { return connected_; }
  std::uint64_t connects() const { return connects_; }
  const std::string& socketPath() const { return socket_; }
  // No coroutine of this source is alive: after stop(), the source may be destroyed.
  bool idle() const { return running_ == 0; }

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> drainFailures();
  // Queues the dead containers found now; false when the daemon could not be asked.
  asio::awaitable<bool> reportDeadAtStart();
  asio::awaitable<std::string> runtimeError(const std::string& id);
  void startDraining();
  void onLine(std::string_view line);
  std::string pickSocket() const;

  asio::io_context& io_;
  EventOut& out_;
  ContainersConfig config_;
  ServiceMap* services_;
  std::string socket_;
  parse::ContainerEventTracker tracker_;
  std::deque<parse::ContainerFailure> queue_;
  std::deque<std::string> oomEventIds_;  // containers the engine sent "oom" for (bounded)
  std::function<void()> cancelStream_;
  asio::steady_timer backoff_;
  std::int64_t lastEventNs_ = 0;
  bool draining_ = false;
  bool connected_ = false;
  bool stopped_ = false;
  int running_ = 0;  // coroutines alive (stop waits for none: see idle())
  std::uint64_t connects_ = 0;
  DegradedNote degraded_;
};

}  // namespace octolaunch::sources
