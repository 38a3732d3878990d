// Builds collector event batches for store, ingest and HTTP tests and the store benchmarks.
#pragma once

#include <capnp/message.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/store/event_store.h"
#include "octolaunch/schema/event.capnp.h"
#include "shared/util/clock.h"

namespace octolaunch::testing {

struct EventSpec {
  std::uint64_t seq = 0;
  std::int64_t timeNs = 0;
  std::string host = "web-1";
  std::string release;
  std::string service = "api";
  // "hook.output" (default), "hook.block", "hook.exit", "deploy.start", "oom.kill"
  std::string kind = "hook.output";
  std::string line = "line";
  // hook.block: this many lines "<line> <i>" (i from 1), line i read (i - 1) * blockStepNs after
  // timeNs, on stderr where i is a multiple of stderrEvery (0: never).
  std::uint32_t blockLines = 0;
  std::uint32_t blockStepNs = 10;
  std::uint32_t stderrEvery = 0;
};

// Owns the message behind an IngestBatch.
class BatchMessage {
 public:
  BatchMessage(std::string agentId, std::uint64_t epoch, const std::vector<EventSpec>& specs,
               std::string host = "web-1")
      : agentId_(std::move(agentId)), epoch_(epoch), host_(std::move(host)) {
    auto list = message_.getRoot<capnp::AnyPointer>().initAs<capnp::List<schema::Event>>(
        static_cast<unsigned>(specs.size()));
    for (unsigned i = 0; i < specs.size(); ++i) fill(list[i], specs[i]);
  }

  IngestBatch batch() {
    return IngestBatch{agentId_, epoch_, host_,
                       message_.getRoot<capnp::AnyPointer>().getAs<capnp::List<schema::Event>>()};
  }

 private:
  static capnp::Text::Reader text(const std::string& s) { return {s.data(), s.size()}; }

  void fill(schema::Event::Builder e, const EventSpec& s) {
    e.setAgentId(agentId_);
    e.setEpoch(epoch_);
    e.setSeq(s.seq);
    e.setTimeNs(s.timeNs);
    e.setHost(text(s.host));
    e.setService(s.service);
    e.setRelease(text(s.release));
    auto p = e.initPayload();
    if (s.kind == "hook.exit") {
      auto x = p.initHookExit();
      x.setCommand("./migrate.sh");
      x.setExitCode(3);
      x.setDurationMs(12);
    } else if (s.kind == "deploy.start") {
      p.initDeployStart();
    } else if (s.kind == "hook.block") {
      auto lines = p.initHookBlock().initLines(s.blockLines);
      for (std::uint32_t i = 0; i < s.blockLines; ++i) {
        const bool err = s.stderrEvery != 0 && (i + 1) % s.stderrEvery == 0;
        lines[i].setStream(err ? schema::HookOutput::Stream::STDERR
                               : schema::HookOutput::Stream::STDOUT);
        lines[i].setLineNo(i + 1);
        lines[i].setText(s.line + " " + std::to_string(i + 1));
        lines[i].setAfterNs(i * s.blockStepNs);
      }
    } else if (s.kind == "oom.kill") {
      auto o = p.initOomKill();
      o.setPid(42);
      o.setProcess("java");
    } else {
      auto o = p.initHookOutput();
      o.setStream(schema::HookOutput::Stream::STDOUT);
      o.setLineNo(static_cast<std::uint32_t>(s.seq));
      o.setLine(text(s.line));
    }
  }

  std::string agentId_;
  std::uint64_t epoch_;
  std::string host_;
  capnp::MallocMessageBuilder message_;
};

// seq from..to inclusive, timeNs = base + seq * step.
inline std::vector<EventSpec> outputLines(std::uint64_t from, std::uint64_t to,
                                          const std::string& release = "r1",
                                          std::int64_t base = 1'000'000'000,
                                          std::int64_t step = 1000) {
  std::vector<EventSpec> specs;
  for (std::uint64_t s = from; s <= to; ++s) {
    specs.push_back({.seq = s,
                     .timeNs = base + static_cast<std::int64_t>(s) * step,
                     .release = release,
                     .line = "line " + std::to_string(s)});
  }
  return specs;
}

class FakeClock final : public Clock {
 public:
  std::int64_t nowNs() const override { return now; }
  std::int64_t monotonicNs() const override { return now; }
  std::int64_t now = 1'700'000'000'000'000'000;
};

}  // namespace octolaunch::testing
