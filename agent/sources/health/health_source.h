// Post-deploy health probes as one of the agent's sources: a HealthMonitor (health_monitor.h)
// with the AsioHealthProber it runs probes through, on the sources' io_context, publishing
// through the sources' EventOut. The SourceSet starts it when some service has a probe.
//
// Threads: a Source: construct, start, stop and destroy it on the sources' io_context thread.
#pragma once

#include <memory>

#include "agent/sources/asio.h"
#include "agent/sources/event_out.h"
#include "agent/sources/source.h"
#include "agent/sources/sources_config.h"

namespace octolaunch::sources {

// Null when no configured service has a probe. out must outlive the source.
std::unique_ptr<Source> makeHealthSource(asio::io_context& io, EventOut& out,
                                         const HealthConfig& config);

}  // namespace octolaunch::sources
