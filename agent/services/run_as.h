// The user a configured command (a health probe's command, a dependency command) runs as:
// [commands] run_as, or [service.NAME] run_as for one service. Empty: the agent's own user.
//
// Contract
//  * planRunAs() runs in the agent before fork (it may allocate and read the user database). It
//    throws std::runtime_error, and the command must not run, when the user does not exist or
//    the agent cannot become it: switching to another user needs CAP_SETUID and CAP_SETGID, and
//    CAP_KILL so that a command past its timeout can still be killed. The message names the user,
//    what is missing and the fix.
//  * applyRunAs() runs in the forked child, before exec: async-signal-safe only. It switches
//    supplementary groups, group and user, in that order, each call checked, then clears the
//    ambient capabilities so that no command inherits the agent's (CAP_SYSLOG,
//    CAP_SYS_RESOURCE, ...). On failure it returns the failed step's name and sets errno; the
//    caller must then not exec.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace octolaunch::services {

struct RunAsPlan {
  bool switchUser = false;  // false: the command runs as the agent's own user
  std::string user;         // as configured, for messages
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;          // the user's supplementary groups (initgroups' list)
  std::vector<std::string> envStore;  // the agent's environment, HOME/USER/LOGNAME replaced
  std::vector<char*> envp;            // pointers into envStore, null-terminated
};

// `user`: a user name or a numeric uid; empty: no switch.
RunAsPlan planRunAs(const std::string& user);

// nullptr on success; else the step that failed ("setgroups", "setgid", "setuid", "capabilities"),
// errno set.
const char* applyRunAs(const RunAsPlan& plan);

// Whether this process may switch commands to another user (CAP_SETUID, CAP_SETGID and CAP_KILL
// in its effective set); the names of those it lacks, space separated, when it may not.
std::string missingRunAsCapabilities();

}  // namespace octolaunch::services
