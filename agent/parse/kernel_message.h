// Kernel log text in every shape an engineer captures it, reduced to one KernelMessage:
// raw /dev/kmsg records, dmesg ([  12.345678] and dmesg -T prefixes), syslog / journalctl -k short
// lines ("Nov 28 06:12:34 host kernel: ..."), ISO-8601 prefixed lines, and bare messages.
// Pure functions: no I/O, no allocation beyond the returned values, never throw on any input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace octolaunch::parse {

struct KernelMessage {
  std::string text;  // the message itself, prefixes removed; \xNN from kmsg unescaped
  std::optional<std::uint64_t> monoUsec;   // kernel monotonic time (kmsg USEC, dmesg [sec.usec])
  std::optional<std::int64_t> realtimeNs;  // wall clock when the prefix carried a full date (dmesg
                                           // -T, ISO-8601); year-less syslog stamps leave it empty
  std::optional<std::uint64_t> seq;        // kmsg sequence number
  int level = -1;                          // syslog level 0..7 (kmsg PRI & 7), -1 when unknown
  int facility = -1;                       // syslog facility (kmsg PRI >> 3), -1 when unknown
  bool continuation = false;  // kmsg FLAGS 'c' (a fragment continuing the previous record)
  std::string host;           // syslog / journalctl host field, when present
  std::vector<std::pair<std::string, std::string>>
      dict;  // kmsg continuation lines: SUBSYSTEM=, DEVICE=
};

// One /dev/kmsg record: "PRI,SEQ,USEC,FLAGS[,more];text" optionally followed by "\n KEY=VALUE"
// lines (what one read() of /dev/kmsg returns). A trailing newline is accepted. Returns nullopt
// when the header is malformed (not a kmsg record).
std::optional<KernelMessage> parseKmsgRecord(std::string_view record);

// True for a kmsg dictionary continuation line (" SUBSYSTEM=...") that belongs to the record before
// it.
bool isKmsgContinuationLine(std::string_view line);

// One line of captured kernel log in any of the shapes above (a raw kmsg record too). Returns
// nullopt for lines that are not kernel messages: empty lines, journalctl "-- Boot ... --" / "--
// Logs begin" markers, syslog lines from other programs than "kernel".
std::optional<KernelMessage> parseKernelLine(std::string_view line);

// Splits captured kernel log text (any mix of the shapes above) into messages: one per line, a raw
// kmsg record together with its dictionary continuation lines. Lines that are not kernel messages
// are counted in *skipped (blank lines are not counted).
std::vector<KernelMessage> parseKernelLog(std::string_view text, std::size_t* skipped = nullptr);

// Decodes the \xNN escapes /dev/kmsg writes for non-printable bytes (newlines included).
std::string unescapeKmsg(std::string_view text);

}  // namespace octolaunch::parse
