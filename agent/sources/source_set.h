// The agent's sources, wired together: what `octolaunch-agent run` starts.
//
//   SourceSet     every enabled host source and the post-deploy health probes on a given
//                 io_context, sharing one EventOut (the spool) and one OomLedger (so kmsg, cgroup
//                 memory events and the journal agree on what is one OOM kill). Constructed,
//                 started and stopped on that io_context's thread.
//   SourcesThread owns an io_context, its thread and a SourceSet: the one object `run` needs.
//                 Its constructor returns once every source has started (or turned itself off);
//                 its destructor (or stop()) stops them and joins the thread.
//
// The EventSink is called on the sources' thread: it must be safe to call from there while the
// shipper works on its own thread (the spool is). The sources and the shipper meet only there:
// the shipper notices appends by watching the spool's file.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/sources/asio.h"
#include "agent/sources/event_out.h"
#include "agent/sources/journal/journal_source.h"
#include "agent/sources/oom_ledger.h"
#include "agent/sources/service_map.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"
#include "shared/event/event_sink.h"
#include "shared/util/clock.h"
#include "shared/util/systemd_notify.h"

namespace octolaunch::sources {

// A source's state, for the agent's report of itself.
struct SourceStatus {
  enum class State { running, degraded, off };
  std::string name;
  State state = State::off;
  std::string reason;  // degraded: what it lacks and the fix (Source::degraded)
};
std::string_view sourceStateName(SourceStatus::State state);

class SourceSet final {
 public:
  SourceSet(asio::io_context& io, EventSink& sink, const SourcesConfig& config, const Clock& clock,
            LineRedactor redact = {});
  ~SourceSet();

  // Starts every enabled source (the host sources unless sources.enabled is false, and the health
  // probes when some service has one); returns the names of those that run.
  std::vector<std::string> start();
  void stop();
  const std::vector<std::string>& running() const { return running_; }
  // Every source built (enabled in the config): running, degraded (running with less, or off for
  // want of a privilege) or off (the host lacks what it reads).
  std::vector<SourceStatus> statuses() const;

 private:
  void addHostSources();
  void retryHeldLater();

  asio::io_context& io_;
  SourcesConfig config_;
  asio::steady_timer retry_;
  bool retryArmed_ = false;
  bool stopped_ = false;
  ServiceMap services_;  // from [service.NAME] units/containers: tags what out_ publishes
  EventOut out_;
  OomLedger ledger_;
  LineRedactor redact_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<std::string> running_;
};

// parseSourcesConfig(raw) with the state dir defaulting to the agent's spool dir, and the health
// probes of [service.NAME]; logs the warnings of both. Throws config::ConfigError naming the key
// (the rule: docs/errors.md, "Configuration").
SourcesConfig sourcesConfigFor(const toml::table& raw, const std::filesystem::path& spoolDir);

class SourcesThread final {
 public:
  SourcesThread(EventSink& sink, const Clock& clock, SourcesConfig config,
                LineRedactor redact = {});
  ~SourcesThread();
  SourcesThread(const SourcesThread&) = delete;
  SourcesThread& operator=(const SourcesThread&) = delete;

  // From now on the sources' loop beats `loop` of `liveness` every beat interval (both must
  // outlive stop()); a handler that blocks the loop stops the beats (systemd_notify.h).
  void beatInto(const LoopLiveness& liveness, LoopLiveness::Loop& loop);
  // Stops the sources and joins the thread; idempotent.
  void stop();
  const std::vector<std::string>& running() const { return running_; }
  // SourceSet::statuses(), from any thread: asks the sources' thread and waits for its answer.
  std::vector<SourceStatus> statuses();

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::unique_ptr<SourceSet> set_;
  asio::steady_timer beat_{io_};
  std::vector<std::string> running_;
  std::thread thread_;
};

}  // namespace octolaunch::sources
