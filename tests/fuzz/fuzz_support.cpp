#include "tests/fuzz/fuzz_support.h"

#include <capnp/message.h>

#include <cstdio>
#include <cstdlib>

#include "shared/event/event_json.h"

namespace octolaunch::parse::fuzz {

namespace {

template <typename Fill>
void check(Fill fill) {
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  fill(event.initPayload());
  try {
    (void)eventJson(event.asReader()).dump();  // strict: throws on invalid UTF-8
  } catch (const std::exception& e) {
    std::fprintf(stderr, "event JSON does not serialise: %s\n", e.what());
    std::abort();
  }
}

}  // namespace

void checkOomKill(const OomKill& kill) {
  check([&](auto p) { fillOomKill(p.initOomKill(), kill); });
}

void checkUnitFailure(const UnitFailure& failure) {
  check([&](auto p) { fillUnitFailed(p.initUnitFailed(), failure); });
}

void checkContainerFailure(const ContainerFailure& failure) {
  check([&](auto p) { fillContainerFailure(p.initContainerFailed(), failure); });
}

}  // namespace octolaunch::parse::fuzz
