// The hook command's cgroup as the kernel's OOM lines name it, and the local user's name.
#include "agent/hook/child_identity.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/local/peer_user.h"

namespace octolaunch::agent {
namespace {

TEST(ChildIdentity, UnifiedHierarchyOnlyGivesTheV2Path) {
  EXPECT_EQ(cgroupFromProcCgroup("0::/system.slice/api.service\n"), "/system.slice/api.service");
}

TEST(ChildIdentity, HybridHostGivesTheMemoryControllersPath) {
  // The memory controller is a v1 hierarchy here: the kernel names that memcg in its OOM lines.
  EXPECT_EQ(cgroupFromProcCgroup("10:hugetlb:/\n"
                                 "9:name=systemd:/system.slice/api.service\n"
                                 "4:memory:/system.slice/api.service\n"
                                 "0::/system.slice/api.service/unified\n"),
            "/system.slice/api.service");
  EXPECT_EQ(cgroupFromProcCgroup("0::/\n4:memory:/deploy/hook\n"), "/deploy/hook");
}

TEST(ChildIdentity, MemoryMountedWithOtherControllersAndColonsInThePath) {
  EXPECT_EQ(cgroupFromProcCgroup("3:cpu,memory,pids:/a:b\n"), "/a:b");
  EXPECT_EQ(cgroupFromProcCgroup("3:cpu,memoryx:/not-this\n0::/this"), "/this");
}

TEST(ChildIdentity, NothingUsableGivesEmpty) {
  EXPECT_EQ(cgroupFromProcCgroup(""), "");
  EXPECT_EQ(cgroupFromProcCgroup("garbage\n5:devices:/x\n1:name=systemd:/y\n"), "");
}

TEST(ChildIdentity, TheCurrentProcessHasACgroup) {
  EXPECT_EQ(cgroupOfProcess(getpid()).substr(0, 1), "/");
  EXPECT_EQ(cgroupOfProcess(-1), "");
}

TEST(ChildIdentity, UserNameElseUid) {
  EXPECT_EQ(localUserName(0), "root");
  EXPECT_EQ(localUserName(3999999999u), "uid 3999999999");
}

}  // namespace
}  // namespace octolaunch::agent
