#include "shared/event/event_json.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

namespace octolaunch {
namespace {

TEST(EventJson, HookExitEnvelopeAndPayload) {
  capnp::MallocMessageBuilder message;
  auto e = message.initRoot<schema::Event>();
  e.setAgentId("a1");
  e.setEpoch(0xabcdef);
  e.setSeq(7);
  e.setTimeNs(1'764'310'354'000'000'001);
  e.setHost("web1");
  e.setRelease("r42");
  auto x = e.getPayload().initHookExit();
  x.setCommand("./migrate.sh");
  x.setExitCode(3);
  x.setDurationMs(12);
  auto j = eventJson(e.asReader());
  EXPECT_EQ(j["kind"], "hook.exit");
  EXPECT_EQ(j["epoch"], "0000000000abcdef");
  EXPECT_EQ(j["time"], "2025-11-28T06:12:34.000000001Z");
  EXPECT_EQ(j["data"]["exit_code"], 3);
  EXPECT_FALSE(j["data"].contains("signal"));
  EXPECT_EQ(parseEpochHex("0000000000abcdef"), 0xabcdefu);
  EXPECT_FALSE(parseEpochHex("xyz"));
}

TEST(EventJson, PressureKindNamesItsResource) {
  capnp::MallocMessageBuilder message;
  auto e = message.initRoot<schema::Event>();
  e.getPayload().initPressure().setResource(schema::Pressure::Resource::IO);
  EXPECT_EQ(kindName(e.asReader()), "pressure.io");
  EXPECT_TRUE(isKnownKind("pressure.io"));
  EXPECT_FALSE(isKnownKind("pressure.disk"));
  EXPECT_TRUE(spoolMayShed(e.asReader()));
}

}  // namespace
}  // namespace octolaunch
