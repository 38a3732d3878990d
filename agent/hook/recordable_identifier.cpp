#include "agent/hook/recordable_identifier.h"

#include "agent/hook/fail_safe.h"
#include "agent/hook/utf8_escape.h"
#include "shared/event/identifier.h"

namespace octolaunch::agent {

RecordableIdentifier recordableIdentifier(std::string_view raw) {
  RecordableIdentifier id;
  appendEscapedUtf8(id.value, raw);
  id.escaped = id.value != raw;
  if (id.value.size() > kMaxIdentifierBytes) {
    id.value.resize(utf8SplitPoint(id.value, kMaxIdentifierBytes - kTruncatedMarker.size()));
    id.value += kTruncatedMarker;
    id.truncated = true;
  }
  return id;
}

std::string recordableIdentifierOrWarn(std::string_view flag, std::string_view raw) {
  RecordableIdentifier id = recordableIdentifier(raw);
  if (!id.escaped && !id.truncated) return std::move(id.value);
  std::string what = std::string(flag) + ":";
  if (id.escaped) what += " not valid UTF-8 or holds a NUL byte (written as \\xNN);";
  if (id.truncated) {
    what += " " + std::to_string(raw.size()) + " bytes, over the limit of " +
            std::to_string(kMaxIdentifierBytes) + " (cut to fit);";
  }
  warnOnStderr(what + " recorded as \"" + id.value + "\"");
  return std::move(id.value);
}

}  // namespace octolaunch::agent
