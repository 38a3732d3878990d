#include "collector/ingest/batch_validator.h"

#include "shared/event/event_json.h"
#include "shared/event/hook_block.h"

namespace octolaunch::ingest {

namespace {
std::string_view view(capnp::Text::Reader t) { return {t.cStr(), t.size()}; }
}  // namespace

std::optional<std::string> checkIdentifier(std::string_view what, std::string_view value,
                                           bool required) {
  if (required && value.empty()) return std::string(what) + " is empty";
  if (value.size() > kMaxIdBytes) {
    return std::string(what) + " is longer than " + std::to_string(kMaxIdBytes) + " bytes";
  }
  if (value.find('\0') != std::string_view::npos) return std::string(what) + " contains a NUL byte";
  return std::nullopt;
}

std::optional<std::string> checkEventContent(schema::Event::Reader event) {
  for (auto [name, text] :
       {std::pair{"host", view(event.getHost())}, std::pair{"service", view(event.getService())},
        std::pair{"release", view(event.getRelease())}}) {
    if (auto bad = checkIdentifier(name, text, false)) return bad;
  }
  if (kindName(event) == "unknown") {
    return "unknown payload kind (union tag " +
           std::to_string(static_cast<unsigned>(event.getPayload().which())) + ")";
  }
  if (event.getPayload().isHookBlock()) {
    auto lines = event.getPayload().getHookBlock().getLines();
    if (lines.size() == 0) return std::string("hook block without lines");
    if (lines.size() > kMaxBlockLines) {
      return "hook block of " + std::to_string(lines.size()) + " lines exceeds the limit of " +
             std::to_string(kMaxBlockLines);
    }
    std::uint32_t previous = 0;
    for (auto line : lines) {
      if (line.getAfterNs() < previous || line.getAfterNs() > kMaxBlockSpanNs) {
        return "hook block lines out of time order or spanning more than " +
               std::to_string(kMaxBlockSpanNs / 1'000'000) + " ms";
      }
      previous = line.getAfterNs();
    }
  }
  return std::nullopt;
}

BatchVerdict validateBatch(capnp::List<schema::Event>::Reader events, std::string_view agentId,
                           std::uint64_t epoch, const BatchLimits& limits) {
  BatchVerdict verdict;
  auto refuse = [&verdict](std::string reason) {
    verdict.refused = std::move(reason);
    verdict.quarantine.clear();
    return std::move(verdict);
  };
  if (events.size() > limits.maxEvents) {
    return refuse("batch of " + std::to_string(events.size()) + " events exceeds the limit of " +
                  std::to_string(limits.maxEvents));
  }
  std::uint64_t previous = 0;
  for (unsigned i = 0; i < events.size(); ++i) {
    schema::Event::Reader e = events[i];
    const std::string where =
        "event " + std::to_string(i) + " (seq " + std::to_string(e.getSeq()) + ")";
    // An agent id left empty and epoch 0 are the session's (hello.accepts "sessionEnvelope").
    if (e.getAgentId().size() > 0 && view(e.getAgentId()) != agentId) {
      return refuse(where + ": agent_id does not match the agent of hello()");
    }
    if (e.getEpoch() != 0 && e.getEpoch() != epoch) {
      return refuse(where + ": epoch " + epochHex(e.getEpoch()) + " is not the epoch of hello() " +
                    epochHex(epoch));
    }
    if (e.getSeq() == 0) return refuse(where + ": seq 0 is not valid (seqs start at 1)");
    if (e.getSeq() <= previous) {
      return refuse(where + ": seq is not above the previous seq " + std::to_string(previous));
    }
    previous = e.getSeq();
    if (auto bad = checkEventContent(e)) verdict.quarantine.push_back({i, *bad});
  }
  return verdict;
}

}  // namespace octolaunch::ingest
