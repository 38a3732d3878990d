#include "collector/ingest/collector_service.h"

#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include <limits>

#include "shared/event/event_json.h"

namespace octolaunch::ingest {

namespace {
std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

// The agent sees exactly this description (no KJ macro decoration).
kj::Exception refusal(kj::Exception::Type type, const std::string& what) {
  return kj::Exception(type, __FILE__, __LINE__, kj::heapString(what.data(), what.size()));
}
}  // namespace

kj::Promise<void> CollectorImpl::hello(HelloContext context) {
  const std::int64_t receivedNs = shared_.clock.nowNs();
  auto params = context.getParams();
  const std::string agentId = text(params.getAgent().getAgentId());
  const std::string host = text(params.getAgent().getHost());
  const std::uint64_t epoch = params.getEpoch();
  if (!shared_.tokens.accepts(text(params.getCredentials().getToken()))) {
    shared_.metrics.hellosRejected++;
    spdlog::warn("hello from {} (agent {:.64}) refused: credentials not accepted", peer_.address,
                 agentId);
    return refusal(kj::Exception::Type::FAILED, "credentials not accepted");
  }
  for (auto [what, value] : {std::pair{"agent_id", std::string_view(agentId)},
                             std::pair{"host", std::string_view(host)}}) {
    if (auto bad = checkIdentifier(what, value, true)) {
      shared_.metrics.hellosRejected++;
      return refusal(kj::Exception::Type::FAILED, "hello refused: " + *bad);
    }
  }
  std::uint64_t resumeAfter = 0;
  try {
    resumeAfter = shared_.store.highWater(agentId, epoch);
  } catch (const StoreError& e) {
    return refusal(kj::Exception::Type::OVERLOADED,
                   std::string("collector store unavailable: ") + e.what());
  }
  spdlog::info("agent {} ({}, epoch {}) connected from {}, resumes after seq {}", agentId, host,
               epochHex(epoch), peer_.address, resumeAfter);
  auto results = context.getResults();
  results.setIngest(kj::heap<IngestImpl>(shared_, agentId, epoch, host, peer_.address));
  results.setResumeAfterSeq(resumeAfter);
  results.setCollectorReceiveNs(receivedNs);
  results.setCollectorSendNs(shared_.clock.nowNs());
  return kj::READY_NOW;
}

kj::Promise<void> IngestImpl::push(PushContext context) {
  const std::int64_t receivedNs = shared_.clock.nowNs();
  auto params = context.getParams();
  auto events = params.getEvents();
  BatchVerdict verdict = validateBatch(events, agentId_, epoch_, shared_.limits);
  if (verdict.refused) {
    shared_.metrics.batchesRejected++;
    spdlog::warn("push from agent {} ({}) refused: {}", agentId_, peer_, *verdict.refused);
    return refusal(kj::Exception::Type::FAILED, "batch refused: " + *verdict.refused);
  }
  // The schema's default (all ones) means an agent that does not send previousSeq.
  std::optional<std::uint64_t> previousSeq;
  if (params.getPreviousSeq() != std::numeric_limits<std::uint64_t>::max()) {
    previousSeq = params.getPreviousSeq();
  }
  std::optional<ClockSample> clock;
  if (params.hasClock() && params.getClock().getMeasured() &&
      params.getClock().getRoundTripNs() >= 0) {
    clock = ClockSample{params.getClock().getOffsetNs(), params.getClock().getRoundTripNs(), 0};
  }
  // No allowCancellation(): the params (and so `events`) stay alive until the commit settles.
  const Clock& now = shared_.clock;
  return shared_.queue
      .submit(agentId_, epoch_, host_, events, previousSeq, std::move(verdict.quarantine), clock)
      .then([context, receivedNs, &now](BatchResult result) mutable {
        auto results = context.getResults();
        results.setCommittedThroughSeq(result.committedThroughSeq);
        results.setCollectorReceiveNs(receivedNs);
        results.setCollectorSendNs(now.nowNs());
      });
}

}  // namespace octolaunch::ingest
