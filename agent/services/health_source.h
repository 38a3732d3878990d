// The daemon's entry to health probing: everything `octolaunch-agent run` needs in one call.
//
//   auto health = services::makeHealthSource(io, config, *spool, clock, wake);
//   for (auto& w : health.warnings) logger->warn("{}", w);
//   asio::post(io, [&] { if (health.source) health.source->start(); });
//   ... on shutdown, on the io thread: health.source->stop(); health.source.reset();
//
// Contract: parses [service.*] and [fingerprint] from config.raw (throws ServicesConfigError, which
// the daemon reports like a ConfigError); `source` is null when no service has a probe. The source
// owns its prober and watches deploysDir(config.spool.dir). Construct, start, stop and destroy it
// on the io_context's thread (it is a sources::Source: the SourceSet may own it instead).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/sources/asio.h"
#include "agent/sources/source.h"
#include "shared/event/event_sink.h"
#include "shared/util/clock.h"

namespace octolaunch::agent {
struct AgentConfig;
}

namespace octolaunch::services {

struct HealthSetup {
  std::unique_ptr<sources::Source> source;
  std::vector<std::string> warnings;  // unknown keys, per-host fingerprint key
};

HealthSetup makeHealthSource(sources::asio::io_context& io, const agent::AgentConfig& config,
                             EventSink& sink, const Clock& clock, std::function<void()> wake);

}  // namespace octolaunch::services
