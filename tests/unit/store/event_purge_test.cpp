// Purging a leaked secret from stored events: what is masked in real Event messages (every
// payload text, by the redaction rule), what is kept (the envelope, the indexes), and the purge
// over a store in several bounded steps.
#include "collector/store/event_purge.h"

#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <gtest/gtest.h>
#include <kj/io.h>

#include <map>

#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "shared/util/pattern_mask.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch {
namespace {

using testing::BatchMessage;
using testing::EventSpec;

constexpr const char* kSecret = "zq-leak-7d3f9a1c44e0b2";

std::unique_ptr<re2::RE2> pattern(const std::string& p) {
  auto re = compileMaskPattern(p);
  EXPECT_TRUE(re->ok()) << re->error();
  return re;
}

// An event with the common envelope; fill sets its payload.
template <typename Fill>
capnp::MallocMessageBuilder& makeEvent(capnp::MallocMessageBuilder& message, Fill fill) {
  auto e = message.initRoot<schema::Event>();
  e.setAgentId("agent-1");
  e.setEpoch(7);
  e.setSeq(42);
  e.setTimeNs(1'000);
  e.setReceivedNs(2'000);
  e.setHost("web-1");
  e.setService("api");
  e.setRelease("r1");
  fill(e.initPayload());
  return message;
}

// Decodes packed bytes and calls fn with the event.
template <typename Fn>
void readBack(const std::string& bytes, Fn fn) {
  withEvent(bytes, [&](schema::Event::Reader e) { fn(e); });
}

TEST(MaskedEvent, MasksAHookLineAndKeepsTheEnvelope) {
  capnp::MallocMessageBuilder m;
  makeEvent(m, [](schema::Event::Payload::Builder p) {
    auto o = p.initHookOutput();
    o.setStream(schema::HookOutput::Stream::STDERR);
    o.setLineNo(3);
    o.setLine(std::string("connecting with ") + kSecret + " to db");
    o.setPhase("migrate");
  });
  auto masked = maskedEvent(m.getRoot<schema::Event>().asReader(), *pattern("zq-leak-[0-9a-f]+"));
  ASSERT_TRUE(masked);
  EXPECT_EQ(masked->find(kSecret), std::string::npos);
  readBack(*masked, [](schema::Event::Reader e) {
    EXPECT_EQ(std::string(e.getAgentId()), "agent-1");
    EXPECT_EQ(e.getEpoch(), 7u);
    EXPECT_EQ(e.getSeq(), 42u);
    EXPECT_EQ(e.getTimeNs(), 1'000);
    EXPECT_EQ(e.getReceivedNs(), 2'000);
    EXPECT_EQ(std::string(e.getHost()), "web-1");
    EXPECT_EQ(std::string(e.getRelease()), "r1");
    ASSERT_TRUE(e.getPayload().isHookOutput());
    auto o = e.getPayload().getHookOutput();
    EXPECT_EQ(o.getStream(), schema::HookOutput::Stream::STDERR);
    EXPECT_EQ(o.getLineNo(), 3u);
    EXPECT_EQ(std::string(o.getLine()), "connecting with *** to db");
    EXPECT_EQ(std::string(o.getPhase()), "migrate");
  });
}

TEST(MaskedEvent, ACaptureGroupKeepsTheRestOfTheMatch) {
  capnp::MallocMessageBuilder m;
  makeEvent(m, [](schema::Event::Payload::Builder p) {
    p.initHookOutput().setLine(std::string("LEGACY_KEY=") + kSecret + " loaded");
  });
  auto masked = maskedEvent(m.getRoot<schema::Event>().asReader(), *pattern("LEGACY_KEY=(\\S+)"));
  ASSERT_TRUE(masked);
  readBack(*masked, [](schema::Event::Reader e) {
    EXPECT_EQ(std::string(e.getPayload().getHookOutput().getLine()), "LEGACY_KEY=*** loaded");
  });
}

TEST(MaskedEvent, NothingMatchedIsNothingRewritten) {
  capnp::MallocMessageBuilder m;
  makeEvent(m, [](schema::Event::Payload::Builder p) { p.initHookOutput().setLine("all fine"); });
  EXPECT_FALSE(maskedEvent(m.getRoot<schema::Event>().asReader(), *pattern("zq-leak-[0-9a-f]+")));
}

TEST(MaskedEvent, EveryPayloadTextIsReachedListsAndNestedStructsIncluded) {
  const std::string leak = kSecret;
  const auto re = pattern("zq-leak-[0-9a-f]+");
  {  // hook.exit: command and tail; a tail line without the secret stays as it was
    capnp::MallocMessageBuilder m;
    makeEvent(m, [&](schema::Event::Payload::Builder p) {
      auto x = p.initHookExit();
      x.setCommand("./deploy.sh --key " + leak);
      x.setExitCode(1);
      auto tail = x.initTail(2);
      tail.set(0, "step 1 ok");
      tail.set(1, "using " + leak);
    });
    auto masked = maskedEvent(m.getRoot<schema::Event>().asReader(), *re);
    ASSERT_TRUE(masked);
    EXPECT_EQ(masked->find(leak), std::string::npos);
    readBack(*masked, [](schema::Event::Reader e) {
      auto x = e.getPayload().getHookExit();
      EXPECT_EQ(std::string(x.getCommand()), "./deploy.sh --key ***");
      EXPECT_EQ(x.getExitCode(), 1);
      EXPECT_EQ(std::string(x.getTail()[0]), "step 1 ok");
      EXPECT_EQ(std::string(x.getTail()[1]), "using ***");
    });
  }
  {  // unit.failed: message and last lines
    capnp::MallocMessageBuilder m;
    makeEvent(m, [&](schema::Event::Payload::Builder p) {
      auto u = p.initUnitFailed();
      u.setUnit("api.service");
      u.setMessage("failed with " + leak);
      u.initLastLines(1).set(0, "token " + leak);
    });
    auto masked = maskedEvent(m.getRoot<schema::Event>().asReader(), *re);
    ASSERT_TRUE(masked);
    EXPECT_EQ(masked->find(leak), std::string::npos);
    readBack(*masked, [](schema::Event::Reader e) {
      auto u = e.getPayload().getUnitFailed();
      EXPECT_EQ(std::string(u.getUnit()), "api.service");
      EXPECT_EQ(std::string(u.getMessage()), "failed with ***");
      EXPECT_EQ(std::string(u.getLastLines()[0]), "token ***");
    });
  }
  {  // container.failed: the runtime's error
    capnp::MallocMessageBuilder m;
    makeEvent(m, [&](schema::Event::Payload::Builder p) {
      p.initContainerFailed().setError("pull with " + leak + " denied");
    });
    auto masked = maskedEvent(m.getRoot<schema::Event>().asReader(), *re);
    ASSERT_TRUE(masked);
    readBack(*masked, [](schema::Event::Reader e) {
      EXPECT_EQ(std::string(e.getPayload().getContainerFailed().getError()),
                "pull with *** denied");
    });
  }
  {  // config.fingerprint: a list of structs
    capnp::MallocMessageBuilder m;
    makeEvent(m, [&](schema::Event::Payload::Builder p) {
      auto entries = p.initConfigFingerprint().initEntries(2);
      entries[0].setName("/etc/app/" + leak + ".conf");
      entries[1].setName("/etc/app/plain.conf");
    });
    auto masked = maskedEvent(m.getRoot<schema::Event>().asReader(), *re);
    ASSERT_TRUE(masked);
    readBack(*masked, [](schema::Event::Reader e) {
      auto entries = e.getPayload().getConfigFingerprint().getEntries();
      EXPECT_EQ(std::string(entries[0].getName()), "/etc/app/***.conf");
      EXPECT_EQ(std::string(entries[1].getName()), "/etc/app/plain.conf");
    });
  }
}

TEST(MaskedEvent, TheEnvelopeIsNotMasked) {
  capnp::MallocMessageBuilder m;
  makeEvent(m, [](schema::Event::Payload::Builder p) { p.initHookOutput().setLine("web-1 up"); });
  // "web-1" is the host and in the line: only the line changes.
  auto masked = maskedEvent(m.getRoot<schema::Event>().asReader(), *pattern("web-1"));
  ASSERT_TRUE(masked);
  readBack(*masked, [](schema::Event::Reader e) {
    EXPECT_EQ(std::string(e.getHost()), "web-1");
    EXPECT_EQ(std::string(e.getPayload().getHookOutput().getLine()), "*** up");
  });
}

class PurgeStoreTest : public ::testing::Test {
 protected:
  PurgeStoreTest()
      : env_(openCollectorEnv(dir_.path(), std::size_t{64} << 20)), store_(env_, clock_) {}

  // seq -> line of every hook.output event the query returns.
  std::map<std::uint64_t, std::string> lines(EventQuery q) {
    std::map<std::uint64_t, std::string> out;
    store_.forEachEvent(q, [&](schema::Event::Reader e) {
      if (e.getPayload().isHookOutput()) {
        out[e.getSeq()] = e.getPayload().getHookOutput().getLine();
      }
      return true;
    });
    return out;
  }
  std::vector<std::string> rawEvents(const std::string& release) {
    EventQuery q;
    q.release = release;
    q.limit = 1000;
    std::vector<std::string> out;
    for (auto& e : store_.query(q).events) out.push_back(e.bytes);
    return out;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  lmdb::Env env_;
  LmdbEventStore store_;
  InlineWriteSerializer writer_;
};

TEST_F(PurgeStoreTest, RewritesTheMatchingEventsOfOneReleaseInBoundedSteps) {
  std::vector<EventSpec> specs;
  for (std::uint64_t seq = 1; seq <= 9; ++seq) {
    const bool leaked = seq % 3 == 0;
    specs.push_back({.seq = seq,
                     .timeNs = static_cast<std::int64_t>(100 - seq),  // not arrival order
                     .host = seq % 2 ? "web-1" : "web-2",
                     .release = "r1",
                     .line = leaked ? "line " + std::to_string(seq) + " " + kSecret
                                    : "line " + std::to_string(seq)});
  }
  specs.push_back({.seq = 10, .timeNs = 5, .release = "r2", .line = kSecret});
  specs.push_back({.seq = 11, .timeNs = 6, .release = "r1", .kind = "hook.exit"});
  BatchMessage m("agent-1", 1, specs);
  IngestBatch b = m.batch();
  b.host = {};  // these events name hosts of their own: keep them (an agent's session has one)
  store_.commitBatches({&b, 1});
  const auto re = pattern("zq-leak-[0-9a-f]+");
  const auto before = rawEvents("r1");

  const PurgeResult dry = purgeRelease(store_, writer_, "r1", *re, /*dryRun=*/true, 2);
  EXPECT_EQ(dry.examined, 10u);
  EXPECT_EQ(dry.rewritten, 3u);
  EXPECT_EQ(rawEvents("r1"), before);

  const PurgeResult done = purgeRelease(store_, writer_, "r1", *re, /*dryRun=*/false, 2);
  EXPECT_EQ(done.examined, 10u);
  EXPECT_EQ(done.rewritten, 3u);

  EventQuery r1;
  r1.release = "r1";
  auto after = lines(r1);
  ASSERT_EQ(after.size(), 9u);
  for (auto& [seq, line] : after) {
    EXPECT_EQ(line, seq % 3 == 0 ? "line " + std::to_string(seq) + " ***"
                                 : "line " + std::to_string(seq));
  }
  for (const std::string& bytes : rawEvents("r1"))
    EXPECT_EQ(bytes.find(kSecret), std::string::npos);
  // Another release is not touched.
  EventQuery r2;
  r2.release = "r2";
  EXPECT_EQ(lines(r2).at(10), kSecret);
  // The indexes still find every event where it was.
  EventQuery byHost;
  byHost.host = "web-2";
  EXPECT_EQ(lines(byHost).size(), 4u);
  EventQuery byKind;
  byKind.kind = "hook.output";
  byKind.release = "r1";
  byKind.skipHookStdout = true;
  EXPECT_TRUE(lines(byKind).empty());  // the stdout tag is intact
  // A second purge finds nothing left.
  EXPECT_EQ(purgeRelease(store_, writer_, "r1", *re, false, 2).rewritten, 0u);
}

TEST_F(PurgeStoreTest, ARewriteThatWouldMoveAnEventOutOfItsIndexesIsRefused) {
  BatchMessage m("agent-1", 1, {{.seq = 1, .timeNs = 1, .release = "r1", .line = kSecret}});
  IngestBatch b = m.batch();
  store_.commitBatches({&b, 1});
  const auto before = rawEvents("r1");
  auto changeHost = [](schema::Event::Reader e) -> std::optional<std::string> {
    capnp::MallocMessageBuilder copy;
    copy.setRoot(e);
    copy.getRoot<schema::Event>().setHost("elsewhere");
    kj::VectorOutputStream out;
    capnp::writePackedMessage(out, copy);
    return std::string(out.getArray().asChars().begin(), out.getArray().size());
  };
  EXPECT_THROW(store_.rewriteRelease("r1", "", 10, changeHost), std::invalid_argument);
  EXPECT_EQ(rawEvents("r1"), before);
}

}  // namespace
}  // namespace octolaunch
