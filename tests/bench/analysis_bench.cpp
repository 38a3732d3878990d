// Benchmark: causes and timeline of one release with N linked events, read from a real LMDB store
// that also holds a background of other releases' events.
//
//   analysis_bench [--background N] [--releases R] [--release-events N] [--hosts H] [--runs K]
//   [--dir D]
//
// Prints p50/p99 of: analyze+causes, analyze+timeline (JSON built and serialised), for the store;
// and the same on an in-memory source holding every event the store returned, to separate store
// reads from the analysis itself. Exits 1 if causes read through the index's skips differ from
// causes computed from every event.
#include <capnp/message.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "collector/releases/release_service.h"
#include "collector/releases/store_sources.h"
#include "collector/store/lmdb_event_store.h"
#include "collector/store/release_store.h"
#include "collector/store/store_env.h"

using namespace octolaunch;
using namespace octolaunch::analysis;
using octolaunch::releases::ReleaseService;
using octolaunch::releases::StoreEventSource;
using octolaunch::releases::StoreReleaseHistory;

namespace {

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kT0 = 1'764'000'000LL * kSec;

class FixedClock final : public Clock {
 public:
  std::int64_t nowNs() const override { return kT0 + 40LL * 24 * 3600 * kSec; }
  std::int64_t monotonicNs() const override { return 0; }
};

// Events of one agent, appended in seq order, committed in chunks.
class AgentWriter {
 public:
  AgentWriter(std::string host) : host_(std::move(host)), agent_("agent-" + host_) {}
  schema::Event::Builder add(std::int64_t t, const std::string& release,
                             const std::string& service) {
    if (!message_) start();
    auto e = list_[n_++];
    e.setAgentId(agent_);
    e.setEpoch(1);
    e.setSeq(++seq_);
    e.setTimeNs(t);
    e.setHost(host_);
    e.setRelease(release);
    e.setService(service);
    return e;
  }
  bool full() const { return message_ && n_ == kChunk; }
  void flush(EventStore& store) {
    if (!message_ || n_ == 0) return;
    auto all = message_->getRoot<capnp::AnyPointer>().getAs<capnp::List<schema::Event>>();
    capnp::MallocMessageBuilder trimmed;
    auto out = trimmed.getRoot<capnp::AnyPointer>().initAs<capnp::List<schema::Event>>(n_);
    for (unsigned i = 0; i < n_; ++i) out.setWithCaveats(i, all[i]);
    IngestBatch b{
        agent_, 1, host_,
        trimmed.getRoot<capnp::AnyPointer>().getAs<capnp::List<schema::Event>>().asReader()};
    store.commitBatches(std::span<const IngestBatch>(&b, 1));
    message_.reset();
  }

 private:
  static constexpr unsigned kChunk = 20'000;
  void start() {
    message_ = std::make_unique<capnp::MallocMessageBuilder>();
    list_ = message_->getRoot<capnp::AnyPointer>().initAs<capnp::List<schema::Event>>(kChunk);
    n_ = 0;
  }
  std::string host_, agent_;
  std::uint64_t seq_ = 0;
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
  capnp::List<schema::Event>::Builder list_;
  unsigned n_ = 0;
};

void hookLine(schema::Event::Builder e, const std::string& line, bool err) {
  auto o = e.getPayload().initHookOutput();
  o.setStream(err ? schema::HookOutput::Stream::STDERR : schema::HookOutput::Stream::STDOUT);
  o.setLine(line);
  o.setPhase("migrate");
}

// CPU time of this thread: the machine may be shared, so wall time alone overstates the cost.
double cpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void report(const char* what, const std::vector<double>& ms, const std::vector<double>& cpu) {
  // The first run is the cold one (the store's pages not yet mapped by this process).
  std::printf(
      "%-40s wall p50 %7.2f ms p99 %7.2f ms first %7.2f ms max %7.2f ms | cpu p50 %7.2f ms p99 "
      "%7.2f ms (n=%zu)\n",
      what, pct(ms, 0.5), pct(ms, 0.99), ms.empty() ? 0.0 : ms.front(),
      ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()), pct(cpu, 0.5), pct(cpu, 0.99),
      ms.size());
}

// An in-memory EventSource (the same answers, no LMDB), built from the store's answers.
class MemorySource final : public EventSource {
 public:
  explicit MemorySource(EventSource& from, const std::vector<Query>& queries) {
    for (const auto& q : queries) {
      auto& slot = answers_[key(q)];
      from.forEach(q, [&](schema::Event::Reader e) {
        auto m = std::make_unique<capnp::MallocMessageBuilder>();
        m->setRoot(e);
        slot.push_back(std::move(m));
        return true;
      });
    }
  }
  void forEach(const Query& q, const std::function<bool(schema::Event::Reader)>& fn) override {
    auto it = answers_.find(key(q));
    if (it == answers_.end()) return;
    for (auto& m : it->second) {
      if (!fn(m->getRoot<schema::Event>().asReader())) break;
    }
  }

 private:
  static std::string key(const Query& q) {
    return q.release + "|" + q.host + "|" + q.kind + "|" + std::to_string(q.sinceNs.value_or(-1)) +
           "|" + std::to_string(q.untilNs.value_or(-1));
  }
  std::map<std::string, std::vector<std::unique_ptr<capnp::MallocMessageBuilder>>> answers_;
};

class RecordingSource final : public EventSource {
 public:
  explicit RecordingSource(EventSource& inner) : inner_(inner) {}
  void forEach(const Query& q, const std::function<bool(schema::Event::Reader)>& fn) override {
    queries.push_back(q);
    inner_.forEach(q, fn);
  }
  std::vector<Query> queries;

 private:
  EventSource& inner_;
};

}  // namespace

int main(int argc, char** argv) {
  std::size_t background = 1'000'000, releases = 1000, releaseEvents = 10'000, hosts = 10,
              runs = 50;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    std::size_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (a == "--background")
      background = v;
    else if (a == "--releases")
      releases = v;
    else if (a == "--release-events")
      releaseEvents = v;
    else if (a == "--hosts")
      hosts = v;
    else if (a == "--runs")
      runs = v;
    else if (a == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: analysis_bench [--background N] [--releases R] [--release-events N] "
                   "[--hosts H] [--runs K] [--dir D]\n");
      return 2;
    }
  }
  // As the collector's main() does: large request buffers come from the heap and stay there, so a
  // request does not page-fault its way through fresh mmap()ed memory. BENCH_MALLOC_DEFAULT=1:
  // glibc defaults (to measure the difference).
  if (!std::getenv("BENCH_MALLOC_DEFAULT")) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
  }
  bool tempDir = dir.empty();
  if (tempDir)
    dir = (std::filesystem::temp_directory_path() /
           ("octolaunch-analysis-bench-" + std::to_string(::getpid())))
              .string();
  std::filesystem::create_directories(dir);
  FixedClock clock;
  lmdb::Env env = openCollectorEnv(dir, std::size_t{32} << 30);
  LmdbEventStore store(env, clock);
  LmdbReleaseStore releaseStore(env);

  auto t0 = std::chrono::steady_clock::now();
  // Background: `releases` releases of 20 services over 100 hosts across 30 days.
  std::map<std::string, std::unique_ptr<AgentWriter>> writers;
  auto writer = [&](const std::string& host) -> AgentWriter& {
    auto& w = writers[host];
    if (!w) w = std::make_unique<AgentWriter>(host);
    return *w;
  };
  std::mt19937_64 rng(42);
  const std::int64_t span = 30LL * 24 * 3600 * kSec;
  std::size_t perRelease =
      std::max<std::size_t>(1, background / std::max<std::size_t>(1, releases));
  for (std::size_t r = 0; r < releases; ++r) {
    std::string id = "bg-" + std::to_string(r), service = "svc-" + std::to_string(r % 20);
    std::int64_t start =
        kT0 + static_cast<std::int64_t>(r) * (span / static_cast<std::int64_t>(releases));
    std::string host = "bg-host-" + std::to_string(r % 100);
    AgentWriter& w = writer(host);
    w.add(start, id, service).getPayload().initDeployStart();
    for (std::size_t i = 0; i < perRelease; ++i) {
      hookLine(w.add(start + static_cast<std::int64_t>(i) * 1'000'000, id, service),
               "background output line " + std::to_string(i), false);
      if (w.full()) w.flush(store);
    }
    w.add(start + static_cast<std::int64_t>(perRelease) * 1'000'000, id, service)
        .getPayload()
        .initDeployFinish()
        .setOutcome(schema::DeployMarker::Outcome::OK);
    if (w.full()) w.flush(store);
    nlohmann::json doc = {{"id", id}, {"service", service}, {"created_ns", start}};
    releaseStore.put(id, releaseToJson(*releaseFromJson(doc, start).value));
  }
  // The release under test: `releaseEvents` events over `hosts` hosts; one host fills its disk
  // during the migration, which fails there; untagged noise of other services on the same hosts.
  const std::string id = "r-bench";
  std::int64_t start = kT0 + span / 2 + 17 * kSec;
  std::size_t perHost = releaseEvents / hosts;
  for (std::size_t h = 0; h < hosts; ++h) {
    std::string host = "web-" + std::to_string(h);
    AgentWriter& w = writer(host);
    w.add(start, id, "api").getPayload().initDeployStart();
    for (std::size_t i = 0; i + 3 < perHost; ++i) {
      std::int64_t t = start + static_cast<std::int64_t>(i + 1) * 10'000'000;
      hookLine(w.add(t, id, "api"), "migrating row batch " + std::to_string(i), i % 50 == 0);
      if (i % 10 == 0) {  // untagged events of another service on the same host, same time
        auto u = w.add(t + 1, "", "").getPayload().initUnitFailed();
        u.setUnit("postgresql.service");
        u.setResult("exit-code");
      }
      if (w.full()) w.flush(store);
    }
    std::int64_t end = start + static_cast<std::int64_t>(perHost) * 10'000'000;
    if (h == 1) {
      auto d = w.add(end - 2 * kSec, "", "").getPayload().initDiskFull();
      d.setState(schema::Pressure::State::RAISED);
      d.setMount("/var/lib/api");
      d.setUsedPercent(99.1);
    }
    auto x = w.add(end, id, "api").getPayload().initHookExit();
    x.setPhase("migrate");
    x.setCommand("./migrate.sh");
    x.setExitCode(h == 1 ? 1 : 0);
    x.setDurationMs(static_cast<std::uint64_t>(perHost) * 10);
    w.add(end + kSec, id, "api")
        .getPayload()
        .initDeployFinish()
        .setOutcome(h == 1 ? schema::DeployMarker::Outcome::FAILED
                           : schema::DeployMarker::Outcome::OK);
  }
  for (auto& [host, w] : writers) w->flush(store);
  nlohmann::json doc = {{"id", id},
                        {"service", "api"},
                        {"ci_job_url", "https://ci/job/1"},
                        {"created_ns", start - 60 * kSec}};
  releaseStore.put(id, releaseToJson(*releaseFromJson(doc, start).value));
  double loadS = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "store: %zu background events in %zu releases + %zu events of %s on %zu hosts, loaded in "
      "%.1f s (%s)\n",
      perRelease * releases + 2 * releases, releases, releaseEvents, id.c_str(), hosts, loadS,
      dir.c_str());

  InlineWriteSerializer writerSerial;
  AnalysisOptions options;
  ReleaseService service(store, releaseStore, writerSerial, clock, options);
  std::vector<double> causesMs, timelineMs, memCausesMs, memTimelineMs;
  std::vector<double> causesCpu, timelineCpu, memCausesCpu, memTimelineCpu;
  std::size_t linked = 0, bytes = 0;
  std::string top;
  for (std::size_t i = 0; i < runs; ++i) {
    double ca = cpuMs();
    auto a = std::chrono::steady_clock::now();
    auto c = service.causes(id);
    bytes = c->dump().size();
    auto b = std::chrono::steady_clock::now();
    double cb = cpuMs();
    auto t = service.timelineText(id);
    bytes += t->size();
    auto e = std::chrono::steady_clock::now();
    double ce = cpuMs();
    causesCpu.push_back(cb - ca);
    timelineCpu.push_back(ce - cb);
    causesMs.push_back(std::chrono::duration<double, std::milli>(b - a).count());
    timelineMs.push_back(std::chrono::duration<double, std::milli>(e - b).count());
    linked = nlohmann::json::parse(*t)["events_total"];
    top = (*c)["causes"].empty() ? "(none)" : (*c)["causes"][0]["title"].get<std::string>();
  }
  // The same analysis on an in-memory copy of exactly what the store returned.
  Release release = *releaseFromJson(*releaseStore.get(id), 0).value;
  StoreEventSource storeSource(store);
  RecordingSource recorder(storeSource);
  StoreReleaseHistory history(releaseStore);
  analyzeRelease(release, recorder, options, clock.nowNs(), &history);
  MemorySource memory(storeSource, recorder.queries);
  for (std::size_t i = 0; i < runs; ++i) {
    double ca = cpuMs();
    auto a = std::chrono::steady_clock::now();
    auto an = analyzeRelease(release, memory, options, clock.nowNs(), &history);
    auto c = an.causesJson().dump();
    auto b = std::chrono::steady_clock::now();
    double cb = cpuMs();
    auto an2 = analyzeRelease(release, memory, options, clock.nowNs(), &history);
    auto t = an2.timelineText();
    auto e = std::chrono::steady_clock::now();
    double ce = cpuMs();
    memCausesCpu.push_back(cb - ca);
    memTimelineCpu.push_back(ce - cb);
    memCausesMs.push_back(std::chrono::duration<double, std::milli>(b - a).count());
    memTimelineMs.push_back(std::chrono::duration<double, std::milli>(e - b).count());
  }
  // Causes skip stdout hook lines through the index; the answer must equal a full reading's.
  auto lean = service.analyze(id, Detail::withoutHookStdout);
  auto full = service.analyze(id, Detail::all);
  bool same = lean->causesJson() == full->causesJson();
  std::printf("release %s: %zu linked events, %zu queries, top cause: %s\n", id.c_str(), linked,
              recorder.queries.size(), top.c_str());
  std::printf("causes read %zu events (a full reading: %zu); same answer as the full reading: %s\n",
              lean->eventsRead, full->eventsRead, same ? "yes" : "NO");
  report("causes (LMDB store, serialised)", causesMs, causesCpu);
  report("timeline (LMDB store, serialised)", timelineMs, timelineCpu);
  report("causes (in-memory, every event, serialised)", memCausesMs, memCausesCpu);
  report("timeline (in-memory, every event, serialised)", memTimelineMs, memTimelineCpu);
  std::printf("(JSON bytes per causes+timeline: %zu)\n", bytes);
  if (tempDir) std::filesystem::remove_all(dir);
  return same ? 0 : 1;
}
