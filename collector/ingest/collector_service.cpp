#include "collector/ingest/collector_service.h"

#include <kj/exception.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "shared/event/event_json.h"

namespace octolaunch::ingest {

namespace {
std::string text(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

std::optional<std::string> checkAgentIdentifiers(std::string_view agentId, std::string_view host) {
  if (auto bad = checkIdentifier("agent_id", agentId, true)) return bad;
  return checkIdentifier("host", host, true);
}

// The agent sees exactly this description (no KJ macro decoration).
kj::Exception refusal(kj::Exception::Type type, const std::string& what) {
  return kj::Exception(type, __FILE__, __LINE__, kj::heapString(what.data(), what.size()));
}
}  // namespace

kj::Promise<void> CollectorImpl::hello(HelloContext context) {
  const std::int64_t receivedNs = shared_.clock.nowNs();
  auto params = context.getParams();
  const std::string claimedId = text(params.getAgent().getAgentId());
  const std::string claimedHost = text(params.getAgent().getHost());
  const std::uint64_t epoch = params.getEpoch();
  if (auto bad = checkAgentIdentifiers(claimedId, claimedHost)) {
    shared_.metrics.hellosRejected++;
    return refusal(kj::Exception::Type::FAILED, "hello refused: " + *bad);
  }
  auto credentials = params.getCredentials();
  const std::string token = text(credentials.getToken());
  const std::string key = text(credentials.getAgentKey());
  SessionIdentity identity;
  std::uint64_t resumeAfter = 0;
  try {
    auto verdict = shared_.access.authenticate(
        claimedId, claimedHost,
        HelloCredentials{token, key, credentials.getGeneration(), credentials.getNextGeneration()},
        peer_.address);
    if (auto* refused = std::get_if<AccessRefusal>(&verdict)) {
      shared_.metrics.hellosRejected++;
      if (refused->kind == AccessRefusal::Kind::cloned) shared_.metrics.clonesReported++;
      spdlog::warn("hello from {} (agent {:.64}) refused: {}", peer_.address, claimedId,
                   refused->message);
      return refusal(kj::Exception::Type::FAILED, refused->message);
    }
    identity = std::get<SessionIdentity>(std::move(verdict));
    resumeAfter = shared_.store.highWater(identity.agentId, epoch);
  } catch (const std::exception& e) {
    return refusal(kj::Exception::Type::OVERLOADED,
                   std::string("collector store unavailable: ") + e.what());
  }
  const std::uint64_t session = identity.enrolled ? shared_.sessions.begin(identity.agentId) : 0;
  spdlog::info("agent {} ({}, epoch {}{}) connected from {}, resumes after seq {}",
               identity.agentId, identity.host, epochHex(epoch),
               identity.enrolled ? ", enrolled" : "", peer_.address, resumeAfter);
  shared_.metrics.agents.noteSeen(identity.agentId, identity.host, receivedNs);
  auto results = context.getResults();
  results.setIngest(kj::heap<IngestImpl>(shared_, identity.agentId, epoch, identity.host,
                                         peer_.address, session));
  results.setResumeAfterSeq(resumeAfter);
  auto accepts = results.initAccepts(2);
  accepts.set(0, "hookBlock");
  accepts.set(1, "sessionEnvelope");
  results.setCollectorReceiveNs(receivedNs);
  results.setCollectorSendNs(shared_.clock.nowNs());
  return kj::READY_NOW;
}

kj::Promise<void> CollectorImpl::enroll(EnrollContext context) {
  auto params = context.getParams();
  const std::string agentId = text(params.getAgent().getAgentId());
  const std::string host = text(params.getAgent().getHost());
  if (auto bad = checkAgentIdentifiers(agentId, host)) {
    shared_.metrics.hellosRejected++;
    return refusal(kj::Exception::Type::FAILED, "enrollment refused: " + *bad);
  }
  try {
    auto verdict = shared_.access.enroll(text(params.getSecret()), agentId, host, peer_.address);
    if (auto* refused = std::get_if<AccessRefusal>(&verdict)) {
      shared_.metrics.hellosRejected++;
      spdlog::warn("enrollment from {} (agent {:.64}) refused: {}", peer_.address, agentId,
                   refused->message);
      return refusal(kj::Exception::Type::FAILED, refused->message);
    }
    auto& key = std::get<EnrolledKey>(verdict);
    shared_.metrics.enrollments++;
    auto results = context.getResults();
    results.setAgentKey(key.key);
    results.setGeneration(key.generation);
  } catch (const std::exception& e) {
    return refusal(kj::Exception::Type::OVERLOADED,
                   std::string("collector store unavailable: ") + e.what());
  }
  return kj::READY_NOW;
}

kj::Promise<void> IngestImpl::push(PushContext context) {
  const std::int64_t receivedNs = shared_.clock.nowNs();
  auto params = context.getParams();
  auto events = params.getEvents();
  if (!shared_.sessions.live(agentId_, session_)) {
    return refusal(kj::Exception::Type::DISCONNECTED,
                   "session ended: agent " + agentId_ +
                       " was revoked or said hello again on another connection");
  }
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
  shared_.metrics.agents.noteSeen(agentId_, host_, receivedNs);
  std::optional<std::int64_t> newestEventNs;
  for (auto event : events) newestEventNs = std::max(newestEventNs.value_or(0), event.getTimeNs());
  std::optional<std::int64_t> offsetNs;
  if (clock) offsetNs = clock->offsetNs;
  // No allowCancellation(): the params (and so `events`) stay alive until the commit settles.
  IngestShared& shared = shared_;
  return shared_.queue
      .submit(agentId_, epoch_, host_, events, previousSeq, std::move(verdict.quarantine), clock)
      .then([context, receivedNs, &shared, agentId = agentId_, newestEventNs,
             offsetNs](BatchResult result) mutable {
        if (newestEventNs) {
          shared.metrics.agents.noteDelivered(agentId, receivedNs, *newestEventNs, offsetNs);
        }
        const Clock& now = shared.clock;
        auto results = context.getResults();
        results.setCommittedThroughSeq(result.committedThroughSeq);
        results.setCollectorReceiveNs(receivedNs);
        results.setCollectorSendNs(now.nowNs());
      });
}

kj::Promise<void> IngestImpl::report(ReportContext context) {
  const std::int64_t receivedNs = shared_.clock.nowNs();
  if (!shared_.sessions.live(agentId_, session_)) {
    return refusal(kj::Exception::Type::DISCONNECTED,
                   "session ended: agent " + agentId_ +
                       " was revoked or said hello again on another connection");
  }
  auto health = context.getParams().getHealth();
  auto parsed = readAgentHealth(health, receivedNs);
  if (auto* bad = std::get_if<std::string>(&parsed)) {
    shared_.metrics.reportsRejected++;
    spdlog::warn("health report from agent {} ({}) refused: {}", agentId_, peer_, *bad);
    return refusal(kj::Exception::Type::FAILED, "report refused: " + *bad);
  }
  shared_.metrics.agents.noteSeen(agentId_, host_, receivedNs);
  shared_.metrics.agents.noteHealth(agentId_, std::get<AgentHealth>(std::move(parsed)));
  return kj::READY_NOW;
}

std::variant<AgentHealth, std::string> readAgentHealth(schema::AgentHealth::Reader health,
                                                       std::int64_t receivedNs) {
  AgentHealth out;
  out.receivedNs = receivedNs;
  out.spoolEvents = health.getSpoolEvents();
  out.spoolBytes = health.getSpoolBytes();
  out.eventsShed = health.getEventsShed();
  if (health.getShipLatencyNs() >= 0) out.shipLatencyNs = health.getShipLatencyNs();
  out.recordingFailures = health.getRecordingFailures();
  auto sources = health.getSourceErrors();
  if (sources.size() > kMaxReportedSources) {
    return "more than " + std::to_string(kMaxReportedSources) + " sources";
  }
  for (auto entry : sources) {
    const std::string name = text(entry.getSource());
    const bool wellFormed = !name.empty() && name.size() <= kMaxSourceNameBytes &&
                            std::all_of(name.begin(), name.end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                                     c == '.' || c == '-';
                            });
    if (!wellFormed)
      return "source name \"" + name.substr(0, kMaxSourceNameBytes) + "\" is not one";
    out.sourceErrors.emplace_back(name, entry.getCount());
  }
  std::sort(out.sourceErrors.begin(), out.sourceErrors.end());
  const bool repeated = std::adjacent_find(out.sourceErrors.begin(), out.sourceErrors.end(),
                                           [](const auto& a, const auto& b) {
                                             return a.first == b.first;
                                           }) != out.sourceErrors.end();
  if (repeated) return "a source is named twice";
  return out;
}

}  // namespace octolaunch::ingest
