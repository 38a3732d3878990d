#include "agent/redact/redacting_sink.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include "tests/support/fake_sink.h"

namespace octolaunch::agent {
namespace {

class RedactingSinkTest : public ::testing::Test {
 protected:
  // Appends the one event built by `fill` through the redacting sink; returns it as the API
  // prints it.
  template <typename Fill>
  nlohmann::json through(Fill fill) {
    capnp::MallocMessageBuilder message;
    auto event = message.initRoot<schema::Event>();
    event.setTimeNs(1);
    event.setService("api");
    fill(event.getPayload());
    schema::Event::Reader reader = event.asReader();
    EXPECT_EQ(sink.append({&reader, 1}), 1u);
    auto events = fake.events();
    return events.empty() ? nlohmann::json() : events.back();
  }

  // The event's JSON holds none of `gone` and all of `kept`.
  static void expectMasked(const nlohmann::json& json, std::initializer_list<const char*> gone,
                           std::initializer_list<const char*> kept) {
    const std::string text = json.dump();
    for (const char* s : gone) EXPECT_EQ(text.find(s), std::string::npos) << s << " in " << text;
    for (const char* s : kept)
      EXPECT_NE(text.find(s), std::string::npos) << s << " not in " << text;
  }

  testing::FakeSink fake;
  Redactor redactor;
  RedactingSink sink{fake, redactor};
};

TEST_F(RedactingSinkTest, ProbeTargetAndErrorAreMasked) {
  auto json = through([](schema::Event::Payload::Builder p) {
    auto h = p.initHealthFailed();
    h.setProbe("http");
    h.setTarget("https://probe:Pr0beP4ss@api.internal:8443/health?token=abc123def");
    h.setError("GET https://probe:Pr0beP4ss@api.internal:8443/health: 401");
  });
  expectMasked(json, {"Pr0beP4ss", "abc123def"}, {"api.internal:8443/health"});
}

TEST_F(RedactingSinkTest, ContainerErrorIsMasked) {
  auto json = through([](schema::Event::Payload::Builder p) {
    auto c = p.initContainerFailed();
    c.setName("api");
    c.setError("exec: env DB_PASSWORD=Hunter2Hunter2 ./start: permission denied");
  });
  expectMasked(json, {"Hunter2Hunter2"}, {"permission denied"});
}

TEST_F(RedactingSinkTest, UnitMessageAndLastLinesAreMaskedAsOneStream) {
  auto json = through([](schema::Event::Payload::Builder p) {
    auto u = p.initUnitFailed();
    u.setUnit("api.service");
    u.setMessage("api.service: token ghp_abcdefghijklmnopqrstuvwxyz0123456789 rejected");
    auto lines = u.initLastLines(4);
    lines.set(0, "-----BEGIN EC PRIVATE KEY-----");
    lines.set(1, "MHcCAQEEIBodyOfTheKeyThatMustNotLeave");
    lines.set(2, "-----END EC PRIVATE KEY-----");
    lines.set(3, "exiting");
  });
  expectMasked(json, {"ghp_abcdefghij", "BodyOfTheKey"}, {"exiting"});
}

TEST_F(RedactingSinkTest, OtherKindsAndCleanTextPassUnchanged) {
  auto json = through([](schema::Event::Payload::Builder p) {
    auto h = p.initHealthRecovered();
    h.setProbe("tcp");
    h.setTarget("127.0.0.1:5432");
  });
  expectMasked(json, {}, {"127.0.0.1:5432"});
  json = through([](schema::Event::Payload::Builder p) {
    p.initHookOutput().setLine("password=not-masked-here-the-hook-masks-its-own");
  });
  expectMasked(json, {}, {"not-masked-here"});
}

}  // namespace
}  // namespace octolaunch::agent
