#include "agent/redact/redacting_sink.h"

#include <capnp/message.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace octolaunch::agent {

namespace {

using Which = schema::Event::Payload::Which;

bool carriesFreeText(schema::Event::Reader event) {
  switch (event.getPayload().which()) {
    case Which::UNIT_FAILED:
    case Which::CONTAINER_FAILED:
    case Which::CONTAINER_OOM:
    case Which::HEALTH_FAILED:
    case Which::HEALTH_RECOVERED:
      return true;
    default:
      return false;
  }
}

// The masked text, or nullopt when nothing in it needed masking.
std::optional<std::string> masked(const Redactor& redactor, capnp::Text::Reader text) {
  std::string s(text.cStr(), text.size());
  RedactState state;
  if (!redactor.redact(s, state)) return std::nullopt;
  return s;
}

// Masks the free text of `event` in place; returns whether anything changed.
bool redactEvent(const Redactor& redactor, schema::Event::Builder event) {
  bool changed = false;
  auto replace = [&](capnp::Text::Reader text, auto set) {
    if (auto m = masked(redactor, text)) {
      set(*m);
      changed = true;
    }
  };
  auto payload = event.getPayload();
  switch (payload.which()) {
    case Which::UNIT_FAILED: {
      auto unit = payload.getUnitFailed();
      replace(unit.asReader().getMessage(), [&](const std::string& s) { unit.setMessage(s); });
      auto lines = unit.getLastLines();
      RedactState state;  // the last lines are one stream: a key may span them
      for (unsigned i = 0; i < lines.size(); ++i) {
        std::string s(lines.asReader()[i].cStr());
        if (redactor.redact(s, state)) {
          lines.set(i, s);
          changed = true;
        }
      }
      break;
    }
    case Which::CONTAINER_FAILED:
    case Which::CONTAINER_OOM: {
      auto c = payload.which() == Which::CONTAINER_FAILED ? payload.getContainerFailed()
                                                          : payload.getContainerOom();
      replace(c.asReader().getError(), [&](const std::string& s) { c.setError(s); });
      break;
    }
    case Which::HEALTH_FAILED:
    case Which::HEALTH_RECOVERED: {
      auto h = payload.which() == Which::HEALTH_FAILED ? payload.getHealthFailed()
                                                       : payload.getHealthRecovered();
      replace(h.asReader().getTarget(), [&](const std::string& s) { h.setTarget(s); });
      replace(h.asReader().getError(), [&](const std::string& s) { h.setError(s); });
      break;
    }
    default:
      break;
  }
  return changed;
}

}  // namespace

std::size_t RedactingSink::append(std::span<const schema::Event::Reader> events) {
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> copies;
  std::vector<schema::Event::Reader> out;
  out.reserve(events.size());
  for (auto event : events) {
    if (carriesFreeText(event)) {
      auto copy = std::make_unique<capnp::MallocMessageBuilder>();
      copy->setRoot(event);
      auto root = copy->getRoot<schema::Event>();
      if (redactEvent(redactor_, root)) {
        out.push_back(root.asReader());
        copies.push_back(std::move(copy));
        continue;
      }
    }
    out.push_back(event);
  }
  return next_.append(out);
}

}  // namespace octolaunch::agent
