#include "agent/parse/parse_command.h"

#include <capnp/message.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "agent/parse/container_events.h"
#include "agent/parse/journal_entry.h"
#include "agent/parse/kernel_message.h"
#include "agent/parse/memory_events.h"
#include "agent/parse/oom_kill.h"
#include "agent/parse/psi.h"
#include "agent/parse/text_util.h"
#include "agent/parse/unit_failure.h"
#include "shared/event/event_json.h"
#include "shared/util/clock.h"

namespace octolaunch::parse {

namespace {

using nlohmann::json;

struct Counts {
  std::uint64_t lines = 0;
  std::uint64_t events = 0;
  std::uint64_t skipped = 0;
};

void print(std::ostream& out, json j) {
  out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
}

// {"kind": ..., ["time", "time_ns",] "data": ...} for one event built by fill().
template <typename Fill>
void printEvent(std::ostream& out, std::optional<std::int64_t> timeNs, Fill fill) {
  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  if (timeNs) event.setTimeNs(*timeNs);
  fill(event.initPayload());
  json j = json::object();
  j["kind"] = kindName(event);
  if (timeNs) {
    j["time"] = formatRfc3339Ns(*timeNs);
    j["time_ns"] = *timeNs;
  }
  j["data"] = payloadJson(event);
  print(out, std::move(j));
}

void printKills(std::ostream& out, const std::vector<OomKill>& kills, Counts& counts) {
  for (const auto& kill : kills) {
    printEvent(out, kill.realtimeNs, [&](auto payload) { fillOomEvent(payload, kill); });
    ++counts.events;
  }
}

void printFailures(std::ostream& out, const UnitFailureAssembler::Output& output, Counts& counts) {
  printKills(out, output.oomKills, counts);
  for (const auto& failure : output.failures) {
    std::optional<std::int64_t> t;
    if (failure.realtimeUsec > 0) t = failure.realtimeUsec * 1000;
    printEvent(out, t, [&](auto payload) { fillUnitFailed(payload.initUnitFailed(), failure); });
    ++counts.events;
  }
}

Counts runKmsg(std::string_view text, std::ostream& out) {
  Counts counts;
  counts.lines = splitLines(text).size();
  std::size_t skipped = 0;
  OomAssembler assembler;
  for (const auto& message : parseKernelLog(text, &skipped))
    printKills(out, assembler.feed(message), counts);
  printKills(out, assembler.finish(), counts);
  counts.skipped = skipped;
  return counts;
}

Counts runJournal(std::string_view text, std::ostream& out) {
  Counts counts;
  UnitFailureAssembler assembler;
  for (auto line : splitLines(text)) {
    ++counts.lines;
    if (trim(line).empty()) continue;
    auto entry = parseJournalJson(line);
    if (!entry) {
      ++counts.skipped;
      continue;
    }
    printFailures(out, assembler.feed(*entry), counts);
  }
  printFailures(out, assembler.finish(), counts);
  return counts;
}

Counts runDocker(std::string_view text, std::ostream& out) {
  Counts counts;
  ContainerEventTracker tracker;
  for (auto line : splitLines(text)) {
    ++counts.lines;
    if (trim(line).empty()) continue;
    auto event = parseContainerEvent(line);
    if (!event) {
      ++counts.skipped;
      continue;
    }
    if (auto failure = tracker.feed(*event)) {
      std::optional<std::int64_t> t;
      if (failure->timeNs > 0) t = failure->timeNs;
      printEvent(out, t, [&](auto payload) {
        if (failure->kind == ContainerFailure::Kind::oom) {
          fillContainerFailure(payload.initContainerOom(), *failure);
        } else {
          fillContainerFailure(payload.initContainerFailed(), *failure);
        }
      });
      ++counts.events;
    }
  }
  return counts;
}

Counts runPsi(std::string_view text, std::ostream& out, const std::string& name) {
  Counts counts;
  counts.lines = splitLines(text).size();
  PsiResource resource = psiResourceFromPath(name);
  PsiParse parsed = parsePsi(text, resource);
  for (const auto& s : parsed.samples) {
    json data = {{"line", s.line},
                 {"avg10", s.avg10},
                 {"avg60", s.avg60},
                 {"avg300", s.avg300},
                 {"total", s.totalUs}};
    if (s.resource != PsiResource::unknown) data["resource"] = psiResourceName(s.resource);
    print(out, {{"kind", "pressure"}, {"data", std::move(data)}});
    ++counts.events;
  }
  counts.skipped = parsed.skipped;
  return counts;
}

Counts runMemoryEvents(std::string_view text, std::ostream& out) {
  Counts counts;
  counts.lines = splitLines(text).size();
  MemoryEvents parsed = parseMemoryEvents(text);
  if (!parsed.counters.empty()) {
    json data = json::object();
    for (const auto& [key, value] : parsed.counters) data[key] = value;
    data["cgroup_version"] = parsed.isV1() ? 1 : 2;
    print(out, {{"kind", "memory.events"}, {"data", std::move(data)}});
    ++counts.events;
  }
  counts.skipped = parsed.skipped;
  return counts;
}

bool knownSource(const std::string& source, std::ostream& err) {
  if (source == "kmsg" || source == "journal-json" || source == "docker-events" ||
      source == "psi" || source == "memory-events") {
    return true;
  }
  err << "octolaunch-agent parse: unknown source '" << source
      << "' (expected one of: kmsg, journal-json, docker-events, psi, memory-events)\n";
  return false;
}

}  // namespace

int runParseCommand(const std::string& source, std::istream& in, std::ostream& out,
                    std::ostream& err, const std::string& name) {
  if (!knownSource(source, err)) return 2;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    err << "octolaunch-agent parse: cannot read " << (name.empty() ? "input" : name) << "\n";
    return 2;
  }
  Counts counts;
  if (source == "kmsg") {
    counts = runKmsg(text, out);
  } else if (source == "journal-json") {
    counts = runJournal(text, out);
  } else if (source == "docker-events") {
    counts = runDocker(text, out);
  } else if (source == "psi") {
    counts = runPsi(text, out, name);
  } else {
    counts = runMemoryEvents(text, out);
  }
  out.flush();
  err << "octolaunch-agent parse " << source << ": " << counts.lines << " lines, " << counts.events
      << " events, " << counts.skipped << " skipped\n";
  return 0;
}

int runParseCommand(const std::string& source, const std::string& path) {
  if (!knownSource(source, std::cerr)) return 2;
  if (path == "-") return runParseCommand(source, std::cin, std::cout, std::cerr, "");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::cerr << "octolaunch-agent parse: cannot read " << path << ": is a directory\n";
    return 2;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::cerr << "octolaunch-agent parse: cannot open " << path << ": " << std::strerror(errno)
              << "\n";
    return 2;
  }
  return runParseCommand(source, file, std::cout, std::cerr, path);
}

}  // namespace octolaunch::parse
