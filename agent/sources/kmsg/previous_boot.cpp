#include "agent/sources/kmsg/previous_boot.h"

#include <systemd/sd-journal.h>

#include <cstring>
#include <string_view>

namespace octolaunch::sources {

namespace {

std::string_view field(sd_journal* journal, const char* name) {
  const void* data = nullptr;
  size_t length = 0;
  if (sd_journal_get_data(journal, name, &data, &length) < 0) return {};
  std::string_view text(static_cast<const char*>(data), length);
  const auto eq = text.find('=');
  return eq == std::string_view::npos ? std::string_view{} : text.substr(eq + 1);
}

std::uint64_t toU64(std::string_view text) {
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

PreviousBootOoms recoverPreviousBootOoms(const std::filesystem::path& journalDir,
                                         const std::string& bootId, std::uint64_t afterMonoUsec) {
  PreviousBootOoms out;
  sd_journal* journal = nullptr;
  const int r = journalDir.empty()
                    ? sd_journal_open(&journal, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM)
                    : sd_journal_open_directory(&journal, journalDir.c_str(), 0);
  if (r < 0) {
    out.error = std::string("cannot open the journal: ") + std::strerror(-r);
    return out;
  }
  const std::string transport = "_TRANSPORT=kernel";
  const std::string boot = "_BOOT_ID=" + bootId;
  sd_journal_add_match(journal, transport.data(), transport.size());
  sd_journal_add_match(journal, boot.data(), boot.size());

  parse::OomAssembler assembler;
  auto take = [&](std::vector<parse::OomKill> kills) {
    for (auto& kill : kills) {
      if (kill.pid == 0)
        continue;  // a header without a victim: nothing was killed that we can name
      kill.source = "journal";
      out.kills.push_back(std::move(kill));
    }
  };
  SD_JOURNAL_FOREACH(journal) {
    ++out.entriesRead;
    const std::uint64_t mono = toU64(field(journal, "_SOURCE_MONOTONIC_TIMESTAMP"));
    if (afterMonoUsec != 0 && mono != 0 && mono <= afterMonoUsec) continue;
    parse::KernelMessage message;
    message.text = std::string(field(journal, "MESSAGE"));
    if (mono != 0) message.monoUsec = mono;
    std::uint64_t realtime = 0;
    if (sd_journal_get_realtime_usec(journal, &realtime) >= 0) {
      message.realtimeNs = static_cast<std::int64_t>(realtime) * 1000;
    }
    take(assembler.feed(message));
  }
  take(assembler.finish());
  sd_journal_close(journal);
  return out;
}

}  // namespace octolaunch::sources
