#include "tests/bench/event_mix.h"

#include <array>
#include <cstdio>

#include "shared/event/hook_block.h"

namespace octolaunch::bench {

namespace {

constexpr std::int64_t kStartNs = 1'796'000'000'000'000'000;

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::array<const char*, 24> kWords = {
    "migrate", "applying",  "step", "table",   "users",  "rows",     "copied",   "index",
    "created", "in",        "ms",   "warning", "retry",  "upstream", "healthy",  "pulling",
    "layer",   "sha256:9f", "done", "config",  "loaded", "from",     "/etc/api", "ok"};

}  // namespace

MixEvent mixEvent(std::uint32_t agent, std::uint64_t index) {
  std::uint64_t state = (std::uint64_t{agent} << 40) ^ index;
  const std::uint64_t r = splitmix(state);
  MixEvent m;
  m.host = "bench-" + std::to_string(agent);
  m.timeNs = kStartNs + static_cast<std::int64_t>(index) * 1'000'000;
  m.lineNo = static_cast<std::uint32_t>(index + 1);
  switch (r % 100) {
    case 0:
      m.kind = r % 3 == 0   ? MixKind::hookExit
               : r % 3 == 1 ? MixKind::unitFailed
                            : MixKind::deployStart;
      m.text = m.kind == MixKind::hookExit     ? "./migrate.sh --step " + std::to_string(index)
               : m.kind == MixKind::unitFailed ? "worker-" + std::to_string(r % 7) + ".service"
                                               : "migrate";
      return m;
    default:
      break;
  }
  m.stderrStream = r % 50 == 1;
  const std::size_t length = 80 + (r >> 8) % 121;  // 80..200 bytes
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "2026-12-07T10:%02llu:%02llu.%03lluZ ",
                static_cast<unsigned long long>(index / 60'000 % 60),
                static_cast<unsigned long long>(index / 1000 % 60),
                static_cast<unsigned long long>(index % 1000));
  m.text = stamp;
  while (m.text.size() < length) {
    m.text += kWords[splitmix(state) % kWords.size()];
    m.text += ' ';
    if (splitmix(state) % 4 == 0) m.text += std::to_string(splitmix(state) % 100'000) + ' ';
  }
  m.text.resize(length);
  return m;
}

void buildEvent(const MixEvent& m, schema::Event::Builder e) {
  e.setTimeNs(m.timeNs);
  e.setRelease(kMixRelease);
  e.setService(kMixService);
  switch (m.kind) {
    case MixKind::hookOutput: {
      auto o = e.getPayload().initHookOutput();
      o.setStream(m.stderrStream ? schema::HookOutput::Stream::STDERR
                                 : schema::HookOutput::Stream::STDOUT);
      o.setLineNo(m.lineNo);
      o.setLine(m.text);
      o.setPhase("migrate");
      break;
    }
    case MixKind::hookExit: {
      auto x = e.getPayload().initHookExit();
      x.setPhase("migrate");
      x.setCommand(m.text);
      x.setExitCode(0);
      x.setDurationMs(1200);
      break;
    }
    case MixKind::unitFailed: {
      auto u = e.getPayload().initUnitFailed();
      u.setUnit(m.text);
      u.setResult("exit-code");
      u.setExitStatus(1);
      break;
    }
    case MixKind::deployStart:
      e.getPayload().initDeployStart().setPhase(m.text);
      break;
  }
}

std::vector<MixRecord> mixRecords(std::uint32_t agent, std::uint64_t events) {
  std::vector<MixRecord> out;
  MixRecord open{.first = 0, .count = 0};  // the block being cut; count 0: none
  std::int64_t openNs = 0;
  std::size_t openBytes = 0;
  for (std::uint64_t i = 0; i < events; ++i) {
    const MixEvent m = mixEvent(agent, i);
    const std::size_t bytes = m.text.size() + kBlockLineOverhead;
    if (open.count > 0 &&
        (m.kind != MixKind::hookOutput || open.count == kMaxBlockLines ||
         openBytes + bytes > kMaxBlockBytes || m.timeNs - openNs > kMaxBlockSpanNs)) {
      out.push_back(open);
      open.count = 0;
    }
    if (m.kind != MixKind::hookOutput) {
      out.push_back({i, 1});
      continue;
    }
    if (open.count == 0) {
      open = {i, 0};
      openNs = m.timeNs;
      openBytes = 0;
    }
    ++open.count;
    openBytes += bytes;
  }
  if (open.count > 0) out.push_back(open);
  return out;
}

void buildRecord(std::uint32_t agent, const MixRecord& record, schema::Event::Builder e) {
  const MixEvent first = mixEvent(agent, record.first);
  if (first.kind != MixKind::hookOutput) {
    buildEvent(first, e);
    return;
  }
  e.setTimeNs(first.timeNs);
  e.setRelease(kMixRelease);
  e.setService(kMixService);
  auto block = e.getPayload().initHookBlock();
  block.setPhase("migrate");
  auto lines = block.initLines(record.count);
  for (std::uint32_t i = 0; i < record.count; ++i) {
    const MixEvent m = i == 0 ? first : mixEvent(agent, record.first + i);
    lines[i].setStream(m.stderrStream ? schema::HookOutput::Stream::STDERR
                                      : schema::HookOutput::Stream::STDOUT);
    lines[i].setLineNo(m.lineNo);
    lines[i].setText(m.text);
    lines[i].setAfterNs(static_cast<std::uint32_t>(m.timeNs - first.timeNs));
  }
}

void appendExportEntry(const MixEvent& m, std::string& out) {
  out += "__REALTIME_TIMESTAMP=" + std::to_string(m.timeNs / 1000) + '\n';
  out += "_HOSTNAME=" + m.host + '\n';
  out += std::string("SYSLOG_IDENTIFIER=") + kMixService + '\n';
  out += std::string("OCTOLAUNCH_RELEASE=") + kMixRelease + '\n';
  switch (m.kind) {
    case MixKind::hookOutput:
      out += m.stderrStream ? "PRIORITY=3\n" : "PRIORITY=6\n";
      out += "MESSAGE=" + m.text + '\n';
      break;
    case MixKind::hookExit:
      out += "PRIORITY=6\nMESSAGE=" + m.text + " exited with 0 after 1200 ms\n";
      break;
    case MixKind::unitFailed:
      out += "PRIORITY=3\nUNIT=" + m.text + "\nMESSAGE=" + m.text +
             ": Failed with result 'exit-code'.\n";
      break;
    case MixKind::deployStart:
      out += "PRIORITY=5\nMESSAGE=deploy start, phase " + m.text + '\n';
      break;
  }
  out += '\n';
}

}  // namespace octolaunch::bench
