#include "collector/store/event_index.h"

#include "collector/store/event_keys.h"
#include "shared/event/event_kinds.h"
#include "shared/lmdb/lmdb.h"

namespace octolaunch {

namespace keys = store_keys;
using schema::Event;

bool onlyHookStdout(Event::Reader event) {
  constexpr auto kStdout = schema::HookOutput::Stream::STDOUT;
  auto payload = event.getPayload();
  if (payload.isHookOutput()) return payload.getHookOutput().getStream() == kStdout;
  if (!payload.isHookBlock()) return false;
  auto lines = payload.getHookBlock().getLines();
  if (lines.size() == 0) return false;
  for (auto line : lines) {
    if (line.getStream() != kStdout) return false;
  }
  return true;
}

std::optional<std::uint32_t> blockSpan(Event::Reader event) {
  if (!event.getPayload().isHookBlock()) return std::nullopt;
  auto lines = event.getPayload().getHookBlock().getLines();
  return lines.size() == 0 ? 0 : lines[lines.size() - 1].getAfterNs();
}

EventIndexEntries indexEntriesOf(Event::Reader event, std::string_view sessionHost) {
  EventIndexEntries out;
  out.timeNs = event.getTimeNs();
  out.kind = storedKindName(event);
  out.host = sessionHost.empty() ? std::string_view(event.getHost().cStr(), event.getHost().size())
                                 : sessionHost;
  out.release = std::string_view(event.getRelease().cStr(), event.getRelease().size());
  unsigned char tags = keys::kTagsPresent;
  if (!out.release.empty()) tags |= keys::kTagHasRelease;
  if (onlyHookStdout(event)) tags |= keys::kTagHookStdout;
  const std::optional<std::uint32_t> span = blockSpan(event);
  if (span) tags |= keys::kTagBlockSpan;
  out.tagged.assign(1, static_cast<char>(tags));
  if (span) out.tagged.append(lmdb::bigEndian32(*span));
  return out;
}

bool taggedAsSingleEvent(std::string_view indexValue) {
  if (indexValue.empty()) return false;
  const auto tags = static_cast<unsigned char>(indexValue[0]);
  return (tags & keys::kTagsPresent) != 0 && (tags & keys::kTagBlockSpan) == 0;
}

}  // namespace octolaunch
