// The cause rules: each turns the linked events of a release into candidate causes of one family.
// Rules only find and describe; cause_ranker.h scores and orders them. Every rule returns nothing
// for a release without the corresponding signals, and never throws.
#pragma once

#include <vector>

#include "collector/analysis/cause.h"

namespace octolaunch::analysis {

// `pipeline`: a stage reported failed. Points at that stage's job URL.
std::vector<Cause> pipelineCauses(const CauseInput& in);

// `deploy-script` (the same hook fails on every host that ran it) and `flaky-deploy` (it fails on
// some hosts and passes on others, or passes on retry on the same host). A hook is its
// phase+command.
std::vector<Cause> hookCauses(const CauseInput& in);

// `resource-exhaustion`: OOM kill of the service, container OOM, unit killed for memory, disk /
// inode / fd exhaustion and memory/io pressure. Host-wide exhaustion on a host that did not fail
// (or only after its failure), and OOM kills of other processes, become context.
std::vector<Cause> resourceCauses(const CauseInput& in);

// `orchestration`: unit failed (start-limit-hit, exit-code, ...), container failed, health probe
// failed.
std::vector<Cause> orchestrationCauses(const CauseInput& in);

// `artifact-mismatch`: a host observed a digest different from the one CI registered.
std::vector<Cause> artifactCauses(const CauseInput& in);

// `config-drift` (config fingerprint of failing hosts differs from healthy hosts, or from the last
// good release on that host) and `dependency-change` (dependency fingerprint differs from the last
// good release, or from healthy hosts).
std::vector<Cause> fingerprintCauses(const CauseInput& in);

}  // namespace octolaunch::analysis
