// Writes the seed corpus of fuzz_ingest (corpus/ingest/): agent sessions built with the schema
// builders the agent uses, each a hello's params followed by push params, in the stream framing
// ingest_fuzz.cpp reads. Usage: fuzz_ingest_seeds DIR
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <kj/io.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "octolaunch/schema/rpc.capnp.h"

namespace {

using octolaunch::schema::Collector;
using octolaunch::schema::Event;
using octolaunch::schema::HookOutput;
using octolaunch::schema::Ingest;

constexpr std::uint64_t kEpoch = 0x5eed5eed5eed5eedULL;
constexpr std::int64_t kNow = 1'700'000'000'000'000'000;

struct Session {
  std::vector<kj::Array<capnp::word>> messages;

  void hello(const char* token, const char* agentId = "agent-web-1", const char* host = "web-1") {
    capnp::MallocMessageBuilder m;
    auto p = m.initRoot<Collector::HelloParams>();
    p.initAgent().setAgentId(agentId);
    p.getAgent().setHost(host);
    p.getAgent().setVersion("0.1.0");
    p.setEpoch(kEpoch);
    p.initCredentials().setToken(token);
    p.setAgentSendNs(kNow);
    messages.push_back(capnp::messageToFlatArray(m));
  }

  // kinds: "deploy.start", "hook.output", "hook.exit", "oom.kill"; seqs from firstSeq on.
  void push(std::uint64_t firstSeq, const std::vector<std::string>& kinds, bool withPrevious,
            const std::string& release = "r42") {
    capnp::MallocMessageBuilder m;
    auto p = m.initRoot<Ingest::PushParams>();
    auto events = p.initEvents(static_cast<unsigned>(kinds.size()));
    for (unsigned i = 0; i < kinds.size(); ++i) {
      Event::Builder e = events[i];
      e.setAgentId("agent-web-1");
      e.setEpoch(kEpoch);
      e.setSeq(firstSeq + i);
      e.setTimeNs(kNow + i * 1000);
      e.setHost("web-1");
      e.setService("api");
      e.setRelease(release);
      auto payload = e.initPayload();
      if (kinds[i] == "deploy.start") {
        payload.initDeployStart().setPhase("deploy");
      } else if (kinds[i] == "hook.exit") {
        auto x = payload.initHookExit();
        x.setPhase("migrate");
        x.setCommand("./migrate.sh --up");
        x.setExitCode(3);
        x.setDurationMs(1240);
        auto tail = x.initTail(2);
        tail.set(0, "applying 0042_add_index");
        tail.set(1, "ERROR: relation \"orders\" does not exist");
        x.setStderrLines(1);
        x.setStdoutLines(1);
        x.setChildPid(4242);
        x.setUser("deploy");
      } else if (kinds[i] == "oom.kill") {
        auto o = payload.initOomKill();
        o.setPid(4243);
        o.setProcess("java");
        o.setConstraint("CONSTRAINT_MEMCG");
      } else {
        auto o = payload.initHookOutput();
        o.setStream(HookOutput::Stream::STDERR);
        o.setLineNo(i + 1);
        o.setLine("ERROR: relation \"orders\" does not exist \xe2\x9c\x97");
        o.setPhase("migrate");
      }
    }
    if (withPrevious) p.setPreviousSeq(firstSeq - 1);
    p.setAgentSendNs(kNow + 5000);
    auto clock = p.initClock();
    clock.setOffsetNs(-1500);
    clock.setRoundTripNs(380'000);
    clock.setMeasured(true);
    messages.push_back(capnp::messageToFlatArray(m));
  }

  void write(const std::string& path) const {
    kj::FdOutputStream out(
        kj::AutoCloseFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644)));
    for (const auto& message : messages)
      out.write(message.asBytes().begin(), message.asBytes().size());
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  {
    Session s;  // a deploy: start, output, a failing hook, then an OOM kill in the next push
    s.hello("fuzz-token");
    s.push(1, {"deploy.start", "hook.output", "hook.output", "hook.exit"}, true);
    s.push(5, {"oom.kill"}, true);
    s.write(dir + "/deploy-session");
  }
  {
    Session s;  // an agent that sends no previousSeq (older agents)
    s.hello("fuzz-token");
    s.push(1, {"hook.output"}, false);
    s.write(dir + "/no-previous-seq");
  }
  {
    Session s;  // an event to quarantine (release over 256 bytes) beside a good one
    s.hello("fuzz-token");
    s.push(1, {"hook.output", "hook.output"}, true, std::string(300, 'r'));
    s.write(dir + "/quarantine");
  }
  {
    Session s;  // a gap: continues after seq 9 that was never stored
    s.hello("fuzz-token");
    s.push(10, {"hook.output"}, true);
    s.write(dir + "/gap");
  }
  {
    Session s;  // the wrong token
    s.hello("not-the-token");
    s.push(1, {"hook.output"}, true);
    s.write(dir + "/wrong-token");
  }
  return 0;
}
