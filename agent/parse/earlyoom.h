// earlyoom's kill reports. earlyoom kills from user space before the kernel's OOM killer would, so
// the kernel log has nothing; it logs to the journal (SYSLOG_IDENTIFIER=earlyoom). Each decision
// to kill becomes an OomKill with killer "earlyoom" (source "journal"):
//   1.6-1.7  sending SIGTERM to process 365 uid 0 "python3": badness 1661, VmRSS 1032 MiB
//   1.8      sending SIGTERM to process 906175 uid 1000 "java": oom_score 1170, VmRSS 43912 MiB,
//   cmdline "..." 1.3-1.5  sending SIGKILL to process 12006 "python3": badness 209, VmRSS 2891 MiB
//   1.2      killing process 27541 "bash" with signal 15: badness 550, VmRSS 7609 MiB
// The start-up banner ("sending SIGTERM when mem <= 10.00% ...") and every other line are not
// kills. Pure; never throws.
#pragma once

#include <optional>
#include <string_view>

#include "agent/parse/oom_kill.h"

namespace octolaunch::parse {

std::optional<OomKill> parseEarlyoomKill(std::string_view message);

// True for a journal entry written by earlyoom (SYSLOG_IDENTIFIER or _COMM "earlyoom").
bool isEarlyoomEntry(std::string_view syslogIdentifier, std::string_view comm);

}  // namespace octolaunch::parse
