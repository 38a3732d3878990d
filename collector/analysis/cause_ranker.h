// Finding and ranking candidate causes: runs every cause rule on a release's linked events, scores
// the candidates so the order explains itself, and writes the advice a person reads first.
//
// Score (0..1) = 0.45·specificity + 0.25·spread + 0.10·proximity + 0.20 (root cause: it precedes a
// failure on the same host) − 0.20 (symptom: every host it was seen on had a root cause first).
//  * specificity: set by the rule (a full disk with its mount is more specific than "hook failed").
//  * spread: the share of the failing hosts it covers (of all hosts when none failed).
//  * proximity: 1 / (1 + Δt / 5 min), Δt from the cause to the first failure on its hosts.
// Context (background seen during the deploy) scores at most 0.1 and is marked "context": true.
// Every cause carries "reasons": the terms that placed it, in words.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "collector/analysis/cause.h"

namespace octolaunch::analysis {

struct CauseReport {
  std::string release;
  std::string status;
  std::string advice;
  bool rollbackAdvised = false;
  std::vector<Cause> causes;  // best first
};

CauseReport findCauses(const CauseInput& in);

// {"release","status","advice","rollback_advised","hosts_total","hosts_failed","causes":[...]}
nlohmann::json causeReportJson(const CauseReport& report, const ReleaseState& state);

}  // namespace octolaunch::analysis
