// The timeline of a release: its pipeline stages, then per host the deploy windows, the deploy
// state and the linked events in time order.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "collector/analysis/deploy_state.h"
#include "collector/analysis/deploy_window.h"
#include "collector/analysis/linker.h"
#include "collector/analysis/release_model.h"

namespace octolaunch::analysis {

struct TimelineOptions {
  // At most this many events per host (the earliest; "events_omitted" counts the rest). 0: all.
  std::size_t maxEventsPerHost = 0;
};

// {"release","service","status","stages":[...],"events_total",
//  "hosts":[{"host","state","windows":[...],"events":[{"time","time_ns","kind","agent_id","epoch",
//            "seq","summary","link"[,"open_at_start":true][,"output_tail":[LINE...]]
//            [,"exit_code"|"signal"][,"outcome"][,"raised"]}],"events_omitted"}]}
// open_at_start: a condition already raised when the window opened (LinkedFact::present);
// output_tail: a hook.exit's last output lines; exit_code/signal: hook.exit; outcome ("ok",
// "failed", "unknown"): deploy.finish; raised: pressure.*, disk.full, inode.exhausted,
// fd.exhausted. Written as text directly (a timeline may hold tens of thousands of events);
// timelineJson() parses that text back, for callers that want to inspect it.
std::string timelineText(const Release& release, std::span<const DeployWindow> windows,
                         std::span<const LinkedFact> linked, const ReleaseState& state,
                         const TimelineOptions& options);
nlohmann::json timelineJson(const Release& release, std::span<const DeployWindow> windows,
                            std::span<const LinkedFact> linked, const ReleaseState& state,
                            const TimelineOptions& options);

}  // namespace octolaunch::analysis
