// OomAssembler on real kernel OOM reports: captured here (6.18) and copied from public trackers
// (2.6.32 .. 5.x); see tests/fixtures/SOURCES.md. Each test asserts the facts the kernel printed.
#include "agent/parse/oom_kill.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include "agent/parse/cgroup_path.h"
#include "tests/unit/parse/fixture.h"

namespace octolaunch::parse {
namespace {

using test::killsOf;

constexpr const char* kLibpodA = "6ce756ab616023d415b0346e0a6be296161930cb4fb2d5886f8fc50f15c75e41";
constexpr const char* kLibpodB = "0868442f204dc931560a8f514d22fedb27efb6d992ed523d78afa0e11a0dc3e0";

void expectThreeHostKills(const std::vector<OomKill>& kills) {
  ASSERT_EQ(kills.size(), 3u);
  const OomKill& a = kills[0];
  EXPECT_TRUE(a.victimSeen);
  EXPECT_EQ(a.pid, 11612);
  EXPECT_EQ(a.process, "memhog");
  EXPECT_EQ(a.uid, 0);
  EXPECT_EQ(a.trigger, "memhog");
  EXPECT_EQ(a.triggerPid, 11612);
  EXPECT_EQ(a.constraint, "CONSTRAINT_MEMCG");
  EXPECT_EQ(a.memcg, "/oltest");
  EXPECT_EQ(a.taskMemcg, "/oltest");
  EXPECT_EQ(a.unit, "");
  EXPECT_EQ(a.containerId, "");
  EXPECT_EQ(a.totalVmKb, 35372u);
  EXPECT_EQ(a.anonRssKb, 32512u);
  EXPECT_EQ(a.fileRssKb, 1104u);
  EXPECT_EQ(a.shmemRssKb, 0u);
  EXPECT_EQ(a.oomScoreAdj, 0);
  EXPECT_EQ(a.killer, "kernel");

  const OomKill& b = kills[1];  // the trigger is not the victim; the trigger's name has a space
  EXPECT_EQ(b.pid, 12674);
  EXPECT_EQ(b.process, "memhold");
  EXPECT_EQ(b.trigger, "api worker");
  EXPECT_EQ(b.triggerPid, 12676);
  EXPECT_EQ(b.memcg, "/system.slice/oltest-api.service");
  EXPECT_EQ(b.unit, "oltest-api.service");
  EXPECT_EQ(b.anonRssKb, 30720u);
  EXPECT_EQ(b.oomScoreAdj, 500);

  const OomKill& c = kills[2];  // limit of the parent slice, victim in a child unit
  EXPECT_EQ(c.pid, 12723);
  EXPECT_EQ(c.memcg, "/oltest.slice");
  EXPECT_EQ(c.taskMemcg, "/oltest.slice/oltest-job.service");
  EXPECT_EQ(c.unit, "oltest-job.service");
  EXPECT_EQ(c.totalVmKb, 27148u);
  EXPECT_EQ(c.anonRssKb, 24448u);
}

TEST(OomAssembler, RealMemcgKillsFromKmsgRecords) {
  auto kills = killsOf("kmsg/linux-6.18-memcg-v1-3kills.kmsg");
  expectThreeHostKills(kills);
  ASSERT_EQ(kills.size(), 3u);
  ASSERT_TRUE(kills[0].seq && kills[0].monoUsec);
  EXPECT_EQ(*kills[0].seq, 420u);  // the victim line's record
  EXPECT_EQ(*kills[0].monoUsec, 726050710u);
}

TEST(OomAssembler, RealMemcgKillsFromDmesgShapes) {
  expectThreeHostKills(killsOf("kmsg/linux-6.18-memcg-v1-3kills.dmesg"));
  expectThreeHostKills(killsOf("kmsg/linux-6.18-memcg-v1-3kills.dmesg-x"));
  auto t = killsOf("kmsg/linux-6.18-memcg-v1-3kills.dmesg-T");
  expectThreeHostKills(t);
  ASSERT_FALSE(t.empty());
  ASSERT_TRUE(t[0].realtimeNs);
  EXPECT_EQ(*t[0].realtimeNs, 1795847032LL * 1'000'000'000);
}

TEST(OomAssembler, PodmanContainerKillsMapToContainerIds) {
  auto kills = killsOf("kmsg/linux-6.18-podman-libpod-oom.kmsg");
  ASSERT_EQ(kills.size(), 2u);
  EXPECT_EQ(kills[0].pid, 14381);
  EXPECT_EQ(kills[0].process, "busybox");
  EXPECT_EQ(kills[0].containerId, kLibpodA);
  EXPECT_EQ(kills[0].memcg, std::string("/libpod_parent/libpod-") + kLibpodA);
  EXPECT_EQ(kills[0].unit, "");
  EXPECT_EQ(kills[0].anonRssKb, 16128u);
  EXPECT_EQ(kills[0].totalVmKb, 67804u);
  EXPECT_EQ(kills[1].pid, 15048);
  EXPECT_EQ(kills[1].containerId, kLibpodB);
}

TEST(OomAssembler, UnitInsideSystemdContainerFromJournalctlK) {
  for (const char* file : {"kmsg/systemd-252-journalctl-k-oom.short",
                           "kmsg/systemd-252-journalctl-k-oom.short-iso-precise"}) {
    SCOPED_TRACE(file);
    auto kills = killsOf(file);
    ASSERT_EQ(kills.size(), 1u);
    EXPECT_EQ(kills[0].pid, 21720);
    EXPECT_EQ(kills[0].process, "python3");
    EXPECT_EQ(kills[0].unit, "ol-oom.service");
    EXPECT_EQ(kills[0].containerId,
              "2dee27b04f6dc438d323e71f213231f8a09f77684475bc23624286849c355407");
    EXPECT_EQ(kills[0].anonRssKb, 16128u);
    EXPECT_EQ(kills[0].fileRssKb, 5112u);
  }
}

TEST(OomAssembler, Rhel7SacrificeChildKillsTheChild) {
  auto kills = killsOf("kmsg/public-el7-3.10-kubepods-sacrifice-child.dmesg-T");
  ASSERT_EQ(kills.size(), 2u);
  const OomKill& k = kills[0];
  EXPECT_TRUE(k.victimSeen);
  EXPECT_EQ(k.pid, 28438);  // "Killed process 28438", not the scored 24572
  EXPECT_EQ(k.process, "java");
  EXPECT_EQ(k.uid, -1);  // not printed by this kernel
  EXPECT_EQ(k.totalVmKb, 20255636u);
  EXPECT_EQ(k.anonRssKb, 466160u);
  EXPECT_EQ(k.fileRssKb, 13684u);
  EXPECT_EQ(k.constraint, "CONSTRAINT_MEMCG");
  EXPECT_EQ(k.memcg,
            "/kubepods/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e/"
            "6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b");
  EXPECT_EQ(k.containerId, "6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b");
  // The second report is cut off after its header: flushed at the end, victim unknown.
  const OomKill& h = kills[1];
  EXPECT_FALSE(h.victimSeen);
  EXPECT_EQ(h.pid, 0);
  EXPECT_EQ(h.trigger, "java");
  EXPECT_EQ(h.triggerPid, 14881);
  EXPECT_EQ(h.containerId,
            "1e479e759020fa0b6c72def90973540a2d33982fea2ad67a96373b4da751a820");  // cpuset=
}

TEST(OomAssembler, Rhel7KillKilledPairsWithUidWording) {
  auto kills = killsOf("kmsg/public-el7-3.10-ltp-kill-sacrifice.syslog");
  ASSERT_EQ(kills.size(), 6u);
  std::vector<int> pids;
  for (const auto& k : kills) pids.push_back(k.pid);
  EXPECT_EQ(pids, (std::vector<int>{42452, 42453, 42474, 42471, 42468, 42469}));
  EXPECT_EQ(kills[0].uid, 0);
  EXPECT_EQ(kills[0].process, "memcg_test_1");
  EXPECT_EQ(kills[0].totalVmKb, 7296u);
  EXPECT_EQ(kills[0].anonRssKb, 96u);
  EXPECT_EQ(kills[0].fileRssKb, 164u);
  EXPECT_EQ(kills[1].constraint,
            "CONSTRAINT_MEMCG");  // from "Memory cgroup out of memory: Kill process"
  EXPECT_TRUE(kills[4].victimSeen);
  EXPECT_FALSE(kills[5].victimSeen);  // scored, never reported killed
  EXPECT_EQ(kills[5].process, "memcg_test_1");
}

TEST(OomAssembler, Pre419TaskInLine) {
  auto kills = killsOf("kmsg/public-el7-3.10-ltp-task-in.syslog");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_FALSE(kills[0].victimSeen);
  EXPECT_EQ(kills[0].taskMemcg, "/13");
  EXPECT_EQ(kills[0].memcg, "/13");
  EXPECT_EQ(kills[0].constraint, "CONSTRAINT_MEMCG");

  auto k8s = killsOf("kmsg/public-kubepods-systemd-docker-task-in.syslog");
  ASSERT_EQ(k8s.size(), 1u);
  EXPECT_EQ(k8s[0].containerId, "b27201334a41cd0749d053b18378d7ea65617b8e26277197ea25c974da1a5a8a");
  EXPECT_EQ(k8s[0].unit, "");  // a container scope is a container, not a unit
}

TEST(OomAssembler, Ubuntu54KillReaperAndHeaderWithoutVictim) {
  OomAssembler assembler;
  std::vector<OomKill> kills;
  std::string text = test::fixture("kmsg/public-ubuntu-5.4-uwsgi-reaper-then-header.dmesg");
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (auto m = parseKernelLine(std::string_view(text).substr(start, nl - start))) {
      for (auto& k : assembler.feed(*m)) kills.push_back(std::move(k));
    }
    start = nl + 1;
  }
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].pid, 63214);
  EXPECT_EQ(kills[0].process, "uwsgi");
  EXPECT_EQ(kills[0].uid, 0);
  EXPECT_EQ(kills[0].anonRssKb, 164992u);
  EXPECT_EQ(kills[0].fileRssKb, 52176u);
  EXPECT_EQ(kills[0].shmemRssKb, 92u);
  EXPECT_EQ(kills[0].oomScoreAdj, 986);
  ASSERT_EQ(assembler.reaped().size(), 1u);
  EXPECT_EQ(assembler.reaped()[0].pid, 63214);
  EXPECT_EQ(assembler.reaped()[0].shmemRssKb, 92u);
  // The second report's header is pending; the kernel clock moves on past the timeout.
  EXPECT_TRUE(assembler.pending());
  EXPECT_TRUE(assembler.expire(7093543753u + 1'000'000).empty());  // within 5 s: still waiting
  auto flushed = assembler.expire(7093543753u + 6'000'000);
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_FALSE(flushed[0].victimSeen);
  EXPECT_TRUE(flushed[0].invocation());  // no line named a victim: not a kill
  EXPECT_FALSE(kills[0].invocation());
  EXPECT_EQ(flushed[0].trigger, "uwsgi");
  EXPECT_EQ(flushed[0].triggerPid, 63635);
  EXPECT_FALSE(assembler.pending());
}

TEST(OomAssembler, GroupOfKillsWithReaperLinesBetween) {
  auto kills = killsOf("kmsg/public-ubuntu-docker-1001-memcg-group.syslog");
  ASSERT_EQ(kills.size(), 4u);
  std::vector<int> pids;
  for (const auto& k : kills) pids.push_back(k.pid);
  EXPECT_EQ(pids, (std::vector<int>{15617, 15674, 15623, 15694}));
  EXPECT_EQ(kills[3].fileRssKb, 3440u);
  ASSERT_TRUE(kills[0].monoUsec);
  EXPECT_EQ(*kills[0].monoUsec, 514682838u);
}

TEST(OomAssembler, OldHeadersWithoutVictim) {
  auto gentoo = killsOf("kmsg/public-gentoo-3.14-header-only.dmesg");
  ASSERT_EQ(gentoo.size(), 1u);
  EXPECT_TRUE(gentoo[0].invocation());
  EXPECT_EQ(gentoo[0].pid, 0);
  EXPECT_EQ(gentoo[0].trigger, "java");
  EXPECT_EQ(gentoo[0].triggerPid, 32498);
  EXPECT_EQ(gentoo[0].containerId,
            "5929cf05bc9e561b7c33ffbc217250af1b94c70017743658b2558a02a1ab1424");
  auto el7 = killsOf("kmsg/public-el7-3.10-kernel-prefix-header.txt");
  ASSERT_EQ(el7.size(), 1u);
  EXPECT_TRUE(el7[0].invocation());
  EXPECT_EQ(el7[0].triggerPid, 9949);
  auto kata = killsOf("kmsg/public-4.14-kata-header-nodemask.dmesg");
  ASSERT_EQ(kata.size(), 1u);
  EXPECT_EQ(kata[0].trigger, "mem");
  EXPECT_EQ(kata[0].triggerPid, 93);
}

TEST(OomAssembler, CriContainerdSummaryAlone) {
  auto kills = killsOf("kmsg/public-lxc-kubepods-cri-containerd-summary.syslog");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].pid, 461754);
  EXPECT_EQ(kills[0].process, "pt_main_thread");
  EXPECT_EQ(kills[0].uid, 0);
  EXPECT_EQ(kills[0].constraint, "CONSTRAINT_MEMCG");
  EXPECT_EQ(kills[0].containerId,
            "ec9ee26695deb4cc72bc665efff1cf3a03fdfb12f1303e02fe9252985e084a95");
  EXPECT_EQ(kills[0].memcg,
            "/lxc.payload....-lxc/kubepods.slice/kubepods-burstable.slice/"
            "kubepods-burstable-podeded8c65_6e8e_4c6e_a889_3e427565c740.slice");
}

TEST(OomAssembler, SacrificeWithUnrelatedSyslogLines) {
  auto kills = killsOf("kmsg/public-el7-doris-sacrifice-mixed-syslog.syslog");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].pid, 18177);
  EXPECT_EQ(kills[0].process, "palo_be");
  EXPECT_EQ(kills[0].anonRssKb, 45563572u);
  EXPECT_EQ(kills[0].totalVmKb, 70347780u);
}

TEST(OomAssembler, Centos6Wording) {
  auto kills = killsOf("kmsg/public-centos6-2.6.32-killed-uid-first.syslog");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].pid, 11726);
  EXPECT_EQ(kills[0].uid, 498);
  EXPECT_EQ(kills[0].process, "mysqld");
  EXPECT_EQ(kills[0].totalVmKb, 7823732u);
  EXPECT_EQ(kills[0].anonRssKb, 2539268u);
  EXPECT_EQ(kills[0].fileRssKb, 768u);
}

TEST(OomAssembler, GlobalOomSummary) {
  auto kills = killsOf("kmsg/public-global-oom-init-scope.dmesg-T");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0].pid, 7899);
  EXPECT_EQ(kills[0].process, "python");
  EXPECT_EQ(kills[0].constraint, "CONSTRAINT_NONE");
  EXPECT_EQ(kills[0].memcg, "");
  EXPECT_EQ(kills[0].taskMemcg, "/init.scope");
  EXPECT_EQ(kills[0].unit, "init.scope");
}

TEST(OomAssembler, InterleavedUnrelatedLinesAndTimeoutOnStreamClock) {
  // A header from the captured kmsg, an unrelated record, then a record 6 s later: the header is
  // flushed (the live source never sees more of that report).
  std::string text = test::fixture("kmsg/linux-6.18-memcg-v1-3kills.kmsg");
  auto header = text.substr(text.find("4,342,"));
  header = header.substr(0, header.find('\n'));
  OomAssembler assembler;
  auto m = parseKmsgRecord(header);
  ASSERT_TRUE(m);
  EXPECT_TRUE(assembler.feed(*m).empty());
  auto unrelated = parseKmsgRecord("6,999,727000000,-;EXT4-fs (vda): something else");
  ASSERT_TRUE(unrelated);
  EXPECT_TRUE(assembler.feed(*unrelated).empty());
  auto later = parseKmsgRecord("6,1000,733000000,-;EXT4-fs (vda): later");
  auto flushed = assembler.feed(*later);
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_EQ(flushed[0].trigger, "memhog");
  EXPECT_FALSE(flushed[0].victimSeen);
  EXPECT_TRUE(flushed[0].invocation());
}

TEST(OomAssembler, NoKillableProcessesEndsTheReportAsAnInvocation) {
  auto reports = killsOf("kmsg/public-crash-kernel-no-killable.dmesg");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].noKillable);
  EXPECT_TRUE(reports[0].invocation());
  EXPECT_EQ(reports[0].pid, 0);
  ASSERT_TRUE(reports[0].monoUsec);
  EXPECT_EQ(*reports[0].monoUsec, 4923156u);
}

// The real 6.18 report of kill (1), cut where a ring that was overwritten (or a log that ends)
// would cut it: everything up to the victim line. The report becomes an oom.invocation that keeps
// the trigger, its pid, the constraint and the memcg, and never an oom.kill with pid 0.
TEST(OomAssembler, ReportCutBeforeItsVictimIsAnInvocationEvent) {
  std::string text = test::fixture("kmsg/linux-6.18-memcg-v1-3kills.kmsg");
  text = text.substr(0, text.find("Memory cgroup out of memory: Killed process 11612"));
  text = text.substr(0, text.rfind('\n') + 1);
  text = text.substr(0, text.find(";oom-kill:"));
  text = text.substr(0, text.rfind('\n') + 1);
  OomAssembler assembler;
  std::vector<OomKill> reports;
  for (const auto& m : parseKernelLog(text))
    for (auto& k : assembler.feed(m)) reports.push_back(std::move(k));
  for (auto& k : assembler.finish()) reports.push_back(std::move(k));
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].invocation());
  EXPECT_EQ(reports[0].trigger, "memhog");
  EXPECT_EQ(reports[0].triggerPid, 11612);
  EXPECT_EQ(reports[0].constraint, "CONSTRAINT_MEMCG");
  EXPECT_EQ(reports[0].memcg, "/oltest");

  capnp::MallocMessageBuilder message;
  auto event = message.initRoot<schema::Event>();
  fillOomEvent(event.initPayload(), reports[0]);
  ASSERT_TRUE(event.getPayload().isOomInvocation());
  EXPECT_EQ(std::string(event.getPayload().getOomInvocation().getTrigger().cStr()), "memhog");
  EXPECT_EQ(event.getPayload().getOomInvocation().getTriggerPid(), 11612);
  EXPECT_EQ(std::string(event.getPayload().getOomInvocation().getMemcg().cStr()), "/oltest");

  // A kill stays a kill.
  auto kills = killsOf("kmsg/linux-6.18-memcg-v1-3kills.kmsg");
  ASSERT_FALSE(kills.empty());
  fillOomEvent(event.initPayload(), kills[0]);
  ASSERT_TRUE(event.getPayload().isOomKill());
  EXPECT_EQ(event.getPayload().getOomKill().getPid(), 11612);
}

TEST(OomAssembler, FillsTheCapnpPayload) {
  auto kills = killsOf("kmsg/linux-6.18-memcg-v1-3kills.kmsg");
  ASSERT_EQ(kills.size(), 3u);
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::OomKill>();
  fillOomKill(b, kills[1]);
  auto r = b.asReader();
  EXPECT_EQ(r.getPid(), 12674);
  EXPECT_EQ(std::string(r.getProcess().cStr()), "memhold");
  EXPECT_EQ(std::string(r.getUnit().cStr()), "oltest-api.service");
  EXPECT_EQ(std::string(r.getConstraint().cStr()), "CONSTRAINT_MEMCG");
  EXPECT_EQ(r.getOomScoreAdj(), 500);
  EXPECT_EQ(std::string(r.getKiller().cStr()), "kernel");
}

TEST(CgroupPath, UnitsAndContainers) {
  EXPECT_EQ(unitFromCgroup("/system.slice/api.service"), "api.service");
  EXPECT_EQ(unitFromCgroup("/system.slice/api.service/worker"), "api.service");
  EXPECT_EQ(unitFromCgroup("/user.slice/user-1000.slice/session-3.scope"), "session-3.scope");
  EXPECT_EQ(unitFromCgroup("/"), "");
  EXPECT_EQ(containerIdFromCgroup(std::string("/system.slice/docker-") + kLibpodA + ".scope"),
            kLibpodA);
  EXPECT_EQ(unitFromCgroup(std::string("/system.slice/docker-") + kLibpodA + ".scope"), "");
  EXPECT_EQ(
      containerIdFromCgroup(std::string("/machine.slice/libpod-conmon-") + kLibpodA + ".scope"),
      "");
  EXPECT_EQ(containerIdFromCgroup(std::string("/docker/") + kLibpodA), kLibpodA);
  EXPECT_EQ(containerIdFromCgroup("/docker/short"), "");
}

}  // namespace
}  // namespace octolaunch::parse
