#include "agent/local/local_records.h"

#include <capnp/message.h>

#include <algorithm>
#include <exception>
#include <vector>

#include "agent/local/local_batch.h"
#include "agent/local/peer_user.h"
#include "shared/event/identifier.h"

namespace octolaunch::agent {

namespace {

using Kind = schema::LocalBatch::Kind;
using Payload = schema::Event::Payload;

bool kindAllowed(Kind kind, Payload::Which which) {
  switch (kind) {
    case Kind::HOOK:
      return which == Payload::HOOK_OUTPUT || which == Payload::HOOK_BLOCK ||
             which == Payload::HOOK_EXIT;
    case Kind::DEPLOY:
      return which == Payload::DEPLOY_START || which == Payload::DEPLOY_FINISH;
  }
  return false;
}

std::string phaseOf(schema::Event::Reader event) {
  auto payload = event.getPayload();
  switch (payload.which()) {
    case Payload::HOOK_OUTPUT:
      return payload.getHookOutput().getPhase();
    case Payload::HOOK_BLOCK:
      return payload.getHookBlock().getPhase();
    case Payload::HOOK_EXIT:
      return payload.getHookExit().getPhase();
    case Payload::DEPLOY_START:
      return payload.getDeployStart().getPhase();
    case Payload::DEPLOY_FINISH:
      return payload.getDeployFinish().getPhase();
    default:
      return {};
  }
}

// Why the batch may not be stored; empty when it may.
std::string problemOf(schema::LocalBatch::Reader batch) {
  if (batch.getSession().size() != kSessionBytes) return "the session id is not 16 bytes";
  auto events = batch.getEvents();
  if (events.size() > kMaxBatchEvents)
    return "more than " + std::to_string(kMaxBatchEvents) + " events";
  if (batch.getBatch() == 0 && events.size() != 0) return "batch 0 is a hello and has no events";
  for (auto event : events) {
    if (!kindAllowed(batch.getKind(), event.getPayload().which()))
      return "an event of a kind a local user may not record";
    if (event.getService().size() > kMaxIdentifierBytes ||
        event.getRelease().size() > kMaxIdentifierBytes ||
        phaseOf(event).size() > kMaxIdentifierBytes)
      return "a service, release or phase longer than " + std::to_string(kMaxIdentifierBytes) +
             " bytes";
  }
  return {};
}

// The outcome as the deploy record names it: the schema's enumerants in order.
const char* outcomeName(schema::DeployMarker::Outcome outcome) {
  static constexpr const char* kNames[] = {"unknown", "ok", "failed"};
  const auto index = static_cast<std::size_t>(outcome);
  return index < std::size(kNames) ? kNames[index] : "unknown";
}

}  // namespace

LocalRecords::LocalRecords(Spool& spool, OnDeployFinish onDeployFinish)
    : spool_(spool), onDeployFinish_(std::move(onDeployFinish)) {}

LocalRecords::Result LocalRecords::accept(uid_t uid, schema::LocalBatch::Reader batch) {
  if (std::string problem = problemOf(batch); !problem.empty()) {
    ++failures_;
    return {Status::refused, std::move(problem)};
  }
  if (batch.getBatch() == 0) return {};

  capnp::MallocMessageBuilder message;
  // Each getEvents() counts the whole list against the traversal limit: read it once.
  const auto source = batch.getEvents();
  auto events = message.initRoot<schema::LocalBatch>().initEvents(source.size());
  const std::string user = localUserName(uid);
  std::vector<schema::Event::Reader> readers;
  readers.reserve(events.size());
  for (unsigned i = 0; i < events.size(); ++i) {
    events.setWithCaveats(i, source[i]);
    auto event = events[i];
    if (event.hasAgentId()) event.disownAgentId();
    if (event.hasHost()) event.disownHost();
    event.setEpoch(0);
    event.setSeq(0);
    event.setReceivedNs(0);
    auto payload = event.getPayload();
    if (payload.isHookExit()) {
      payload.getHookExit().setUid(uid);
      payload.getHookExit().setUser(user);
    } else if (payload.isDeployStart()) {
      payload.getDeployStart().setUid(uid);
      payload.getDeployStart().setUser(user);
    } else if (payload.isDeployFinish()) {
      payload.getDeployFinish().setUid(uid);
      payload.getDeployFinish().setUser(user);
    }
    readers.push_back(event.asReader());
  }

  BatchMark mark;
  mark.uid = uid;
  std::copy_n(batch.getSession().begin(), kSessionBytes, mark.session.begin());
  mark.batch = batch.getBatch();
  try {
    if (!spool_.appendBatch(mark, readers)) return {Status::duplicate, {}};
  } catch (const std::exception& e) {
    ++failures_;
    return {Status::failed, e.what()};
  }
  for (auto event : readers) {
    if (!event.getPayload().isDeployFinish()) continue;
    onDeployFinish_({event.getService(), event.getRelease(),
                     outcomeName(event.getPayload().getDeployFinish().getOutcome()),
                     event.getTimeNs(), uid});
  }
  return {};
}

}  // namespace octolaunch::agent
