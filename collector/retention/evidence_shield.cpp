#include "collector/retention/evidence_shield.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <limits>

#include "shared/event/hook_block.h"

namespace octolaunch::retention {

namespace {

std::string_view textOf(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }

bool isFailedStatus(std::string_view status) {
  return status == "failed" || status == "partially_failed" || status == "pipeline_failed";
}

}  // namespace

void EvidenceShield::coverRelease(std::string release) {
  if (!release.empty()) releases_.insert(std::move(release));
}

void EvidenceShield::coverSpan(const std::string& host, std::int64_t fromNs, std::int64_t untilNs) {
  auto& spans = spans_[host];
  const auto span = std::make_pair(fromNs, std::max(untilNs, fromNs + 1));
  spans.insert(std::upper_bound(spans.begin(), spans.end(), span), span);
}

bool EvidenceShield::covers(std::string_view release, std::string_view host, std::int64_t firstNs,
                            std::int64_t lastNs) const {
  if (!release.empty() && releases_.contains(release)) return true;
  auto found = spans_.find(host);
  if (found == spans_.end()) return false;
  // Any span that starts at or before lastNs and ends after firstNs overlaps [firstNs, lastNs].
  const auto& spans = found->second;
  auto end = std::upper_bound(spans.begin(), spans.end(),
                              std::make_pair(lastNs, std::numeric_limits<std::int64_t>::max()));
  return std::any_of(spans.begin(), end, [firstNs](const auto& s) { return s.second > firstNs; });
}

bool EvidenceShield::covers(schema::Event::Reader event) const {
  const std::int64_t firstNs = event.getTimeNs();
  std::int64_t lastNs = firstNs;
  if (event.getPayload().isHookBlock()) {
    auto lines = event.getPayload().getHookBlock().getLines();
    if (lines.size() > 0) lastNs = firstNs + lines[lines.size() - 1].getAfterNs();
  }
  return covers(textOf(event.getRelease()), textOf(event.getHost()), firstNs, lastNs);
}

EvidenceShield failedReleaseEvidence(releases::ReleaseService& service, ReleaseStore& releases,
                                     std::int64_t sinceNs, ShieldSummary& summary) {
  EvidenceShield shield;
  for (const nlohmann::json& doc : releases.list()) {
    const auto id = doc.find("id");
    const auto created = doc.find("created_ns");
    if (id == doc.end() || !id->is_string()) continue;
    if (created != doc.end() && created->is_number_integer() &&
        created->get<std::int64_t>() < sinceNs) {
      continue;
    }
    ++summary.releasesExamined;
    try {
      auto analysed = service.analyze(id->get<std::string>(), analysis::Detail::withoutHookStdout);
      if (!analysed || !isFailedStatus(analysed->state.status)) continue;
      ++summary.failedReleases;
      shield.coverRelease(id->get<std::string>());
      for (const analysis::DeployWindow& window : analysed->windows) {
        shield.coverSpan(window.host, window.startNs, window.endNs);
      }
      for (const analysis::Cause& cause : analysed->causes().causes) {
        for (const analysis::Evidence& evidence : cause.evidence) {
          if (!evidence.host.empty()) shield.coverSpan(evidence.host, evidence.timeNs, 0);
        }
      }
    } catch (const std::exception& e) {
      ++summary.analysisErrors;
      spdlog::error("retention: cannot analyse release {} (its evidence is not kept longer): {}",
                    id->get<std::string>(), e.what());
    }
  }
  return shield;
}

}  // namespace octolaunch::retention
