#include "collector/store/event_purge.h"

#include <capnp/dynamic.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize-packed.h>
#include <kj/io.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "shared/util/pattern_mask.h"

namespace octolaunch {

namespace {

using capnp::DynamicList;
using capnp::DynamicStruct;
using Which = capnp::schema::Type::Which;

bool maskStruct(DynamicStruct::Builder s, const re2::RE2& re);

// Copies text into out and masks it there; true when anything was masked.
bool maskText(capnp::Text::Reader text, const re2::RE2& re, std::string& out) {
  out.assign(text.begin(), text.size());
  return maskMatches(out, re);
}

bool maskList(DynamicList::Builder list, const re2::RE2& re) {
  bool changed = false;
  std::string text;
  for (unsigned i = 0; i < list.size(); ++i) {
    switch (list.getSchema().whichElementType()) {
      case Which::TEXT:
        if (maskText(list[i].as<capnp::Text>().asReader(), re, text)) {
          list.set(i, capnp::Text::Reader(text.c_str(), text.size()));
          changed = true;
        }
        break;
      case Which::STRUCT:
        changed = maskStruct(list[i].as<DynamicStruct>(), re) || changed;
        break;
      case Which::LIST:
        changed = maskList(list[i].as<DynamicList>(), re) || changed;
        break;
      default:
        return false;  // numbers, enums, data: nothing to mask
    }
  }
  return changed;
}

bool maskField(DynamicStruct::Builder s, capnp::StructSchema::Field field, const re2::RE2& re) {
  if (field.getProto().isGroup()) return maskStruct(s.get(field).as<DynamicStruct>(), re);
  const Which type = field.getType().which();
  if ((type == Which::TEXT || type == Which::STRUCT || type == Which::LIST) && !s.has(field)) {
    return false;
  }
  switch (type) {
    case Which::TEXT: {
      std::string text;
      if (!maskText(s.get(field).as<capnp::Text>().asReader(), re, text)) return false;
      s.set(field, capnp::Text::Reader(text.c_str(), text.size()));
      return true;
    }
    case Which::STRUCT:
      return maskStruct(s.get(field).as<DynamicStruct>(), re);
    case Which::LIST:
      return maskList(s.get(field).as<DynamicList>(), re);
    default:
      return false;
  }
}

bool maskStruct(DynamicStruct::Builder s, const re2::RE2& re) {
  bool changed = false;
  for (capnp::StructSchema::Field field : s.getSchema().getNonUnionFields()) {
    changed = maskField(s, field, re) || changed;
  }
  KJ_IF_MAYBE (active, s.which()) {
    changed = maskField(s, *active, re) || changed;
  }
  return changed;
}

}  // namespace

std::optional<std::string> maskedEvent(schema::Event::Reader event, const re2::RE2& re) {
  capnp::MallocMessageBuilder edited(event.totalSize().wordCount + 8);
  edited.setRoot(event);
  auto root = edited.getRoot<DynamicStruct>(capnp::Schema::from<schema::Event>());
  if (!maskStruct(root.get("payload").as<DynamicStruct>(), re)) return std::nullopt;
  // The builder zeroes a replaced text but keeps its space: a copy holds only what is reachable,
  // as compact as an event stored new.
  capnp::MallocMessageBuilder clean(edited.getRoot<schema::Event>().totalSize().wordCount + 8);
  clean.setRoot(edited.getRoot<schema::Event>().asReader());
  kj::VectorOutputStream out;
  capnp::writePackedMessage(out, clean);
  auto bytes = out.getArray();
  return std::string(bytes.asChars().begin(), bytes.size());
}

PurgeResult purgeRelease(EventStore& store, WriteSerializer& writer, const std::string& release,
                         const re2::RE2& re, bool dryRun, std::size_t eventsPerStep) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kProgressEvery = std::chrono::seconds(2);
  PurgeResult result;
  std::optional<std::string> resumeAfter = std::string();
  auto lastProgress = Clock::now();
  const EventRewrite rewrite = [&](schema::Event::Reader e) -> std::optional<std::string> {
    auto masked = maskedEvent(e, re);
    if (!masked) return std::nullopt;
    ++result.rewritten;
    if (dryRun) return std::nullopt;
    return masked;
  };
  while (resumeAfter) {
    RewriteStep step;
    writer.run([&] { step = store.rewriteRelease(release, *resumeAfter, eventsPerStep, rewrite); });
    result.examined += step.examined;
    resumeAfter = std::move(step.resumeAfter);
    if (resumeAfter && Clock::now() - lastProgress >= kProgressEvery) {
      lastProgress = Clock::now();
      spdlog::info("purge of release {}: {} events examined, {} {} so far", release,
                   result.examined, result.rewritten, dryRun ? "would be rewritten" : "rewritten");
    }
  }
  return result;
}

}  // namespace octolaunch
