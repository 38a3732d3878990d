// Who a local peer is, as the kernel reports it: never as the peer says.
//
// Threads: any; every function is reentrant.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace octolaunch::agent {

struct PeerUser {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;  // 0 when the kernel did not say (a queue file has no process)
};

// The credentials of the process at the other end of a connected AF_UNIX socket (SO_PEERCRED:
// taken when it connected); nullopt when the kernel does not say.
std::optional<PeerUser> peerOfSocket(int fd);

// The passwd name of uid; "uid N" when it has none (a container's user, a broken NSS).
std::string localUserName(uid_t uid);

}  // namespace octolaunch::agent
