// Bytes from an agent -> the collector's ingest path: Cap'n Proto decoding with the RPC layer's
// reader limits, hello() and push() of the real Collector/Ingest capabilities (identifier, token
// and batch validation), the CommitQueue and a commit into a real LMDB store in a temp directory.
//
// Input: a stream of Cap'n Proto messages in the standard framing (serialize.h). The first is the
// params of Collector.hello, decoded within the hello budget that ConnectionGuard gives a peer
// before hello; every later one is the params of Ingest.push on the capability hello returned,
// decoded with IngestLimits' traversal and nesting limits. Bytes that do not decode end the input,
// as they end the connection. The capabilities are called in process (no socket), so their params
// are a copy of what was decoded; the RPC framing itself is KJ's and fuzzed upstream.
#include <capnp/serialize.h>
#include <kj/async.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>

#include "collector/ingest/agent_access.h"
#include "collector/ingest/collector_service.h"
#include "collector/ingest/ingest_server.h"
#include "collector/store/agent_registry.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/store_env.h"
#include "tests/support/event_batches.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::ingest {
namespace {

// The token the seeds carry; any other is refused, so both answers of hello() are reachable.
constexpr const char* kToken = "fuzz-token";
// A fresh store after this many inputs keeps the map small and the runs comparable.
constexpr unsigned kInputsPerStore = 2000;

// One store, queue and set of capabilities' shared state; replaced every kInputsPerStore inputs
// (one LMDB environment per directory and process at a time).
struct Collector {
  testing::TempDir dir;
  testing::FakeClock clock;
  lmdb::Env env = openCollectorEnv(dir.path(), std::size_t{256} << 20);
  LmdbEventStore store{env, clock};
  IngestMetrics metrics;
  WorkerThread writer{"store-writer"};
  WorkerThread encoder{"encoder"};
  CommitQueue queue{store, metrics, {writer, {&encoder}}, clock};
  TokenSet tokens{{kToken}};
  AgentRegistry registry{env};
  // The seeds' hello carries the token as an older agent's shared token (no per-agent key).
  AgentAccess access{registry, tokens, AccessOptions{.acceptSharedTokens = true}, clock};
  SessionTable sessions;
  IngestLimits limits;
  IngestShared shared{store, queue, access, sessions, metrics, BatchLimits{limits.maxBatchEvents},
                      clock};
};

capnp::ReaderOptions readerOptions(const IngestLimits& limits, bool beforeHello) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords =
      (beforeHello ? limits.helloMaxBytes : limits.maxMessageBytes) / sizeof(capnp::word);
  options.nestingLimit = static_cast<int>(limits.maxNesting);
  return options;
}

// Decodes the next message of `rest` into `message` and moves `rest` past it; false when the rest
// does not decode (the RPC layer would drop the connection there).
bool nextMessage(kj::ArrayPtr<const capnp::word>& rest, capnp::ReaderOptions options,
                 std::optional<capnp::FlatArrayMessageReader>& message) {
  message.reset();
  if (rest.size() == 0) return false;
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() { message.emplace(rest, options); })) {
    message.reset();
    return false;
  }
  rest = kj::arrayPtr(message->getEnd(), rest.end());
  return true;
}

// Copies the decoded params into a request the way the capability would receive them; false when
// the params cannot be read (the RPC layer could not have read them either).
template <typename Params>
bool copyParams(capnp::Request<capnp::AnyPointer, capnp::AnyPointer>& request,
                capnp::FlatArrayMessageReader& message) {
  return kj::runCatchingExceptions([&]() { request.setAs<Params>(message.getRoot<Params>()); }) ==
         nullptr;
}

void run(Collector& c, kj::WaitScope& waitScope, kj::ArrayPtr<const capnp::word> input) {
  std::optional<capnp::FlatArrayMessageReader> message;
  if (!nextMessage(input, readerOptions(c.limits, true), message)) return;
  capnp::Capability::Client collector = kj::heap<CollectorImpl>(c.shared, PeerIdentity{"fuzz"});
  auto hello = collector.typelessRequest(capnp::typeId<schema::Collector>(), 0, nullptr);
  if (!copyParams<schema::Collector::HelloParams>(hello, *message)) return;
  schema::Ingest::Client ingest = nullptr;
  KJ_IF_MAYBE (e, kj::runCatchingExceptions([&]() {
                 ingest = hello.send()
                              .wait(waitScope)
                              .getAs<schema::Collector::HelloResults>()
                              .getIngest();
               })) {
    return;  // refused: wrong token or identifiers
  }
  while (nextMessage(input, readerOptions(c.limits, false), message)) {
    auto push = ingest.typelessRequest(capnp::typeId<schema::Ingest>(), 0, nullptr);
    if (!copyParams<schema::Ingest::PushParams>(push, *message)) return;
    // A refused batch, a gap or a full store is an answer, not the end of the session.
    (void)kj::runCatchingExceptions([&]() { push.send().wait(waitScope); });
  }
}

}  // namespace
}  // namespace octolaunch::ingest

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace octolaunch::ingest;
  static kj::EventLoop loop;
  static kj::WaitScope waitScope(loop);
  static std::unique_ptr<Collector> collector;
  static unsigned inputs = 0;
  if (!collector || ++inputs % kInputsPerStore == 0) {
    collector.reset();
    collector = std::make_unique<Collector>();
  }
  // Aligned words, as the RPC layer's buffers are; a trailing partial word cannot be a message.
  kj::Array<capnp::word> words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  std::memcpy(words.begin(), data, words.size() * sizeof(capnp::word));
  run(*collector, waitScope, words.asPtr());
  return 0;
}
