#include "collector/analysis/event_fact.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include "shared/event/event_kinds.h"
#include "tests/support/event_kind_examples.h"

namespace octolaunch::analysis {
namespace {

// The fact reader knows every kind of the table, and the analysis columns of the table decide how
// a fact links and whether it is a failure.
TEST(EventFact, EveryKindIsReadAndFollowsTheTable) {
  for (const auto& kind : kEventKinds) {
    capnp::MallocMessageBuilder message;
    auto event = message.initRoot<schema::Event>();
    test::initKind(event, kind);
    const EventFact f = factFromEvent(event.asReader());
    EXPECT_EQ(f.kind, kind.name);
    EXPECT_EQ(f.type, kind.payload) << kind.name;
    EXPECT_FALSE(f.summary.empty()) << kind.name << " is not read";
    EXPECT_EQ(isHostContext(f), kind.linking == Linking::hostContext) << kind.name;
    // Default payload fields: exit code 0, outcome unknown; failing only when always failing.
    EXPECT_EQ(isFailureSignal(f), kind.failure == FailureSignal::always) << kind.name;
  }
}

TEST(EventFact, HookExitAndDeployFinishFailWhenTheirPayloadSays) {
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  event.getPayload().initHookExit().setExitCode(3);
  EXPECT_TRUE(isFailureSignal(factFromEvent(event.asReader())));
  event.getPayload().initHookExit().setSignal(9);
  EXPECT_TRUE(isFailureSignal(factFromEvent(event.asReader())));
  event.getPayload().initDeployFinish().setOutcome(schema::DeployMarker::Outcome::FAILED);
  EXPECT_TRUE(isFailureSignal(factFromEvent(event.asReader())));
  event.getPayload().initDeployFinish().setOutcome(schema::DeployMarker::Outcome::OK);
  EXPECT_FALSE(isFailureSignal(factFromEvent(event.asReader())));
}

}  // namespace
}  // namespace octolaunch::analysis
