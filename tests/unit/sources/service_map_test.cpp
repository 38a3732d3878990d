// Event.service set where events are made, from [service.NAME] units/containers, on real captured
// text: systemd 252's unit failures, podman 4.3.1's Docker-API events and the kernel's OOM kill in
// a podman container (tests/fixtures/SOURCES.md).
#include "agent/sources/service_map.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>

#include "agent/parse/container_events.h"
#include "agent/parse/journal_entry.h"
#include "agent/parse/kernel_message.h"
#include "agent/parse/oom_kill.h"
#include "agent/parse/text_util.h"
#include "agent/parse/unit_failure.h"
#include "agent/sources/event_out.h"
#include "tests/support/fake_sink.h"

namespace octolaunch::sources {
namespace {

std::string fixture(const std::string& relativePath) {
  std::ifstream in(std::string(OCTOLAUNCH_FIXTURES_DIR) + "/" + relativePath, std::ios::binary);
  EXPECT_TRUE(in) << relativePath;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// An EventOut tagging with the services of an agent.toml text, into a FakeSink.
struct Tagging {
  explicit Tagging(std::string_view agentToml)
      : services(services::parseServicesConfig(toml::parse(agentToml)).services),
        out(sink, clock, {}, &services) {}
  ServiceMap services;
  testing::FakeSink sink;
  SystemClock clock;
  EventOut out;
};

// service of each event of `kind`, keyed by what names it (unit, container name, container id).
std::multimap<std::string, std::string> servicesOf(const testing::FakeSink& sink,
                                                   const std::string& kind,
                                                   const std::string& key) {
  std::multimap<std::string, std::string> out;
  for (const auto& e : sink.eventsOfKind(kind))
    out.emplace(e["data"].value(key, ""), e.value("service", ""));
  return out;
}

TEST(ServiceMap, UnitFailuresOfConfiguredUnitsAreTagged) {
  Tagging t(R"(
    [service.api]
    units = ["ol-exit.service"]
    [service.batch]
    units = ["ol-loop"]
  )");
  auto& [services, sink, clock, out] = t;
  parse::UnitFailureAssembler assembler;
  EventBatch batch;
  auto add = [&](const parse::UnitFailureAssembler::Output& output) {
    for (const auto& f : output.failures)
      parse::fillUnitFailed(batch.add(f.realtimeUsec * 1000).getPayload().initUnitFailed(), f);
  };
  const std::string journal = fixture("journal/systemd-252-unit-failures.json");
  for (auto line : parse::splitLines(journal)) {
    if (auto entry = parse::parseJournalJson(line)) add(assembler.feed(*entry));
  }
  add(assembler.finish());
  ASSERT_TRUE(out.publish(batch));
  const auto tagged = servicesOf(sink, "unit.failed", "unit");
  ASSERT_TRUE(tagged.contains("ol-exit.service"));
  ASSERT_TRUE(tagged.contains("ol-loop.service"));
  ASSERT_TRUE(tagged.contains("ol-signal.service"));
  for (const auto& [unit, service] : tagged) {
    if (unit == "ol-exit.service") {
      EXPECT_EQ(service, "api");
    } else if (unit == "ol-loop.service") {
      EXPECT_EQ(service, "batch");  // "ol-loop" in the config names ol-loop.service
    } else {
      EXPECT_EQ(service, "") << unit;
    }
  }
}

TEST(ServiceMap, ContainerFailuresAndAContainersOomKillAreTagged) {
  Tagging t(R"(
    [service.api]
    containers = ["ol-exit1"]
    [service.mem]
    containers = ["ol-oom"]
  )");
  auto& [services, sink, clock, out] = t;
  parse::ContainerEventTracker tracker;
  EventBatch batch;
  const std::string events = fixture("docker/podman-4.3.1-api-events.jsonl");
  for (auto line : parse::splitLines(events)) {
    auto event = parse::parseContainerEvent(line);
    if (!event) continue;
    if (event->type == "container") services.noteContainer(event->id, event->name);
    if (auto failure = tracker.feed(*event)) {
      parse::fillContainerFailure(batch.add(failure->timeNs).getPayload().initContainerFailed(),
                                  *failure);
    }
  }
  parse::OomAssembler kernel;
  for (const auto& m : parse::parseKernelLog(fixture("kmsg/linux-6.18-podman-libpod-oom.kmsg"))) {
    for (const auto& kill : kernel.feed(m)) parse::fillOomEvent(batch.add(1).getPayload(), kill);
  }
  ASSERT_TRUE(out.publish(batch));

  const auto failed = servicesOf(sink, "container.failed", "name");
  ASSERT_TRUE(failed.contains("ol-exit1"));
  ASSERT_TRUE(failed.contains("ol-oom"));
  for (const auto& [name, service] : failed) {
    const std::string expected = name == "ol-exit1" ? "api" : name == "ol-oom" ? "mem" : "";
    EXPECT_EQ(service, expected) << name;
  }
  const auto kills = servicesOf(sink, "oom.kill", "container_id");
  ASSERT_EQ(kills.size(), 2u);
  // ol-oom (CLI) is the service's container; ol-api-oom is no service's.
  EXPECT_EQ(kills.find("6ce756ab616023d415b0346e0a6be296161930cb4fb2d5886f8fc50f15c75e41")->second,
            "mem");
  EXPECT_EQ(kills.find("0868442f204dc931560a8f514d22fedb27efb6d992ed523d78afa0e11a0dc3e0")->second,
            "");
}

TEST(ServiceMap, AServiceAlreadySetIsKept) {
  ServiceMap services(services::parseServicesConfig(toml::parse(R"(
    [service.api]
    units = ["api.service"]
  )"))
                          .services);
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  event.setService("web");
  event.initPayload().initUnitFailed().setUnit("api.service");
  services.tag(event);
  EXPECT_EQ(std::string(event.getService().cStr()), "web");
  event.setService("");
  services.tag(event);
  EXPECT_EQ(std::string(event.getService().cStr()), "api");
}

}  // namespace
}  // namespace octolaunch::sources
