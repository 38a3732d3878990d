// Scenarios whose evidence comes from the host itself: a real full filesystem, real kernel OOM
// kills in a memory cgroup, the artifact, config and dependency files on the host, health probes.
// Those needing root and cgroup v1 skip with the reason (and fail in CI, which must run them).
// Each runs as its quiet and its noisy twin (fleet.h); a host's own cgroups are made below
// fleet.hostScope(host), its own disk is a tmpfs mounted in its directory.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/scenarios/cause_checks.h"
#include "tests/scenarios/diagnosis.h"
#include "tests/scenarios/fleet.h"
#include "tests/support/skip.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kJobUrl = "https://ci.example.com/acme/api/jobs/5120";

json ciRelease(std::vector<std::string> targets, const std::string& digest = "") {
  json r = octolaunch::testing::ciRelease(kJobUrl, std::move(targets));
  if (!digest.empty()) r["artifact_digest"] = digest;
  return r;
}

// Waits until the collector has an event matching query whose JSON contains needle (noise brings
// events of the same kind on the same host).
bool eventArrived(Fleet& fleet, const std::string& query, const std::string& needle = "") {
  return waitUntil(
      [&] {
        for (const auto& e : allEvents(fleet.collector().httpPort(), query)) {
          if (e.dump().find(needle) != std::string::npos) return true;
        }
        return false;
      },
      20s);
}

std::string sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::ostringstream out;
  for (unsigned char c : digest) out << std::hex << (c >> 4) << (c & 0xf);
  return out.str();
}

std::string needMemcgV1() {
  if (geteuid() != 0) return "needs root to create a memory cgroup";
  if (!std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
    return "needs cgroup v1 memory controller at /sys/fs/cgroup/memory";
  if (access("/dev/kmsg", R_OK) != 0) return "needs a readable /dev/kmsg";
  return "";
}

class HostScenario : public TwinScenario {};

// A small tmpfs mounted at a host's data directory, unmounted at the end.
class SmallDisk final {
 public:
  SmallDisk(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0)
      throw std::runtime_error("mount tmpfs on " + dir_.string() + ": " + strerror(errno));
  }
  ~SmallDisk() { umount2(dir_.c_str(), MNT_DETACH); }
  const std::filesystem::path& dir() const { return dir_; }
  std::string diskSource() const {
    return "[sources.disk]\nmounts = [\"" + dir_.string() +
           "\"]\ninclude_tmpfs = true\ninterval_ms = 100\n";
  }

 private:
  std::filesystem::path dir_;
};

TEST_P(HostScenario, DiskFilledUnderAFailingMigrationIsTheRootCause) {
  if (geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs root to mount a small tmpfs");
  Fleet fleet(GetParam());
  SmallDisk disk(fleet.dir() / "web1-data", "1m");
  fleet.addHost("web1", disk.diskSource());
  fleet.addHost("web2");
  ASSERT_EQ(fleet.registerRelease("r300", "api", ciRelease({"web1", "web2"})).status, 201);
  // The migration fills the disk, and fails once the agent has reported the full disk (as a real
  // one fails at its next write): it waits, at most 10 s, until the collector has the disk.full.
  std::string fill =
      "dd if=/dev/zero of=" + (disk.dir() / "orders.idx").string() +
      " bs=64k count=64 2>/dev/null; for i in $(seq 200); do curl -sf '" + fleet.collector().url() +
      "/api/v1/events?host=web1&kind=disk.full' | grep -q disk.full && break; sleep 0.05; done; "
      "echo 'ERROR: could not extend file \"base/16384/24576\": No space left on device' >&2; exit "
      "1";
  EXPECT_EQ(deployWithHook(fleet, "web1", "r300", "migrate", fill), 1);
  EXPECT_EQ(deployWithHook(fleet, "web2", "r300", "migrate", "echo migrated"), 0);
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=disk.full", disk.dir().string()));
  ASSERT_TRUE(fleet.waitDelivered(20s));

  json answer = fleet.causes("r300");
  judge({"resource-exhaustion", {"web1"}, "disk.full"}, answer);
  // The migration failure is still there, as evidence below the root cause.
  EXPECT_TRUE(anyCauseHasEvidenceKind(answer, "hook.exit")) << answer.dump(2);
  EXPECT_FALSE(answer.value("rollback_advised", true)) << "a rollback frees no disk space";
}

TEST_P(HostScenario, DiskAlreadyFullBeforeTheDeployIsTheRootCause) {
  // The data disk filled before the deploy (and before the agent started: it reports what it
  // finds at start); tar then fails to write the backup the deploy makes.
  if (geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs root to mount a small tmpfs");
  Fleet fleet(GetParam());
  SmallDisk disk(fleet.dir() / "web1-data", "1m");
  ASSERT_NE(run({"dd", "if=/dev/zero", "of=" + (disk.dir() / "old-dump.sql").string(), "bs=64k",
                 "count=64"},
                30s)
                .exitCode,
            0);  // dd stops at "No space left on device"
  fleet.addHost("web1", disk.diskSource());
  fleet.addHost("web2");
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=disk.full", disk.dir().string()));
  ASSERT_EQ(fleet.registerRelease("r307", "api", ciRelease({"web1", "web2"})).status, 201);
  const std::string backup = "tar -cf " + (disk.dir() / "pre-deploy.tar").string() +
                             " -C /usr/share/doc . && echo backed up";
  EXPECT_NE(deployWithHook(fleet, "web1", "r307", "backup", backup), 0);
  std::filesystem::create_directories(fleet.hostDir("web2") / "data");
  EXPECT_EQ(deployWithHook(fleet, "web2", "r307", "backup",
                           "tar -cf data/pre-deploy.tar -C /usr/share/doc/cmake . && echo ok"),
            0);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r307");
  judge({"resource-exhaustion", {"web1"}, "disk.full"}, answer);
  EXPECT_TRUE(mentions(answer, "No space left on device")) << answer.dump(2);
  EXPECT_FALSE(answer.value("rollback_advised", true)) << "a rollback frees no disk space";
}

TEST_P(HostScenario, KernelOomKillOfTheServiceDuringTheDeploy) {
  if (auto why = needMemcgV1(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  Fleet fleet(GetParam());
  fleet.addHost("web1", "[sources.kmsg]\nenabled = true\nrecover_previous_boot = false\n");
  fleet.addHost("web2");
  MemoryCgroup cg(fleet.hostScope("web1") / "api.service", 32u << 20);
  ASSERT_EQ(fleet.registerRelease("r301", "api", ciRelease({"web1", "web2"})).status, 201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r301", "warmup", cg.oomScript()), 128 + 9);
  EXPECT_EQ(deployWithHook(fleet, "web2", "r301", "warmup", "echo warm"), 0);
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=oom.kill", cg.name()));
  ASSERT_TRUE(fleet.waitDelivered(20s));

  json answer = fleet.causes("r301");
  judge({"resource-exhaustion", {"web1"}, "oom.kill"}, answer);
  EXPECT_TRUE(mentions(rootCause(answer)["open_first"], kJobUrl)) << answer.dump(2);
}

TEST_P(HostScenario, HookChildOomKilledOutsideTheServiceUnit) {
  // The migration runs in a cgroup of its own (a deploy scope, not the service's unit): the hook
  // is started inside it, so its child is too, and the kernel kills the child there. The hook's
  // exit (signal 9) and the oom.kill in the hook's cgroup are one cause.
  if (auto why = needMemcgV1(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  Fleet fleet(GetParam());
  fleet.addHost("web1", "[sources.kmsg]\nenabled = true\nrecover_previous_boot = false\n");
  fleet.addHost("web2");
  MemoryCgroup scope(fleet.hostScope("web1") / "deploy-migrate.scope", 48u << 20);
  ASSERT_EQ(fleet.registerRelease("r310", "api", ciRelease({"web1", "web2"})).status, 201);
  fleet.deploy("web1", "start", "r310", "api");
  EXPECT_EQ(fleet.hookIn(scope.procs(), "web1", "r310", "api", "migrate",
                         "echo 'loading 2.1M rows into orders_new'; exec python3 -c \"a = []\n"
                         "while True: a.append(bytearray(1 << 20))\""),
            128 + 9);
  fleet.deploy("web1", "finish", "r310", "api", "failed");
  EXPECT_EQ(deployWithHook(fleet, "web2", "r310", "migrate", "echo migrated"), 0);
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=oom.kill", scope.name()));
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r310");
  judge({"resource-exhaustion", {"web1"}, "oom.kill"}, answer);
  EXPECT_TRUE(evidenceHasKind(rootCause(answer), "hook.exit")) << answer.dump(2);
  EXPECT_TRUE(mentions(rootCause(answer), "python3")) << answer.dump(2);
  EXPECT_FALSE(answer.value("rollback_advised", true)) << "the migration, not the release, ran out";
}

TEST_P(HostScenario, UnrelatedOomOfAnotherServiceDoesNotOutrankTheRealCause) {
  if (auto why = needMemcgV1(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  Fleet fleet(GetParam());
  fleet.addHost("web1", "[sources.kmsg]\nenabled = true\nrecover_previous_boot = false\n");
  fleet.addHost("web2");
  MemoryCgroup worker(fleet.hostScope("web1") / "worker.service", 32u << 20);
  ASSERT_EQ(fleet.registerRelease("r302", "api", ciRelease({"web1", "web2"})).status, 201);
  for (auto h : {"web1", "web2"}) fleet.deploy(h, "start", "r302", "api");
  // Another service on web1 is OOM-killed during api's deploy window.
  EXPECT_EQ(run({"sh", "-c", worker.oomScript()}, 60s).exitCode, 128 + 9);
  for (auto h : {"web1", "web2"}) {
    EXPECT_EQ(fleet.hook(h, "r302", "api", "migrate",
                         "echo 'ERROR: syntax error at or near \"FROM\"' >&2; exit 2"),
              2);
    fleet.deploy(h, "finish", "r302", "api", "failed");
  }
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=oom.kill", worker.name()));
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r302");
  judge({"deploy-script", {"web1", "web2"}, "syntax error"}, answer);
}

TEST_P(HostScenario, ArtifactOnOneHostIsNotWhatCiBuilt) {
  Fleet fleet(GetParam());
  std::string built = "api build 2.0.0 (commit a1b2c3d4)\n";
  std::filesystem::path artifact = fleet.dir() / "api.tar";
  for (auto host : {"web1", "web2"})
    fleet.addHost(host, "[service.api]\nartifact = \"" + artifact.string() + "\"\n");
  std::ofstream(artifact) << built;
  ASSERT_EQ(
      fleet
          .registerRelease("r303", "api", ciRelease({"web1", "web2"}, "sha256:" + sha256Hex(built)))
          .status,
      201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r303", "restart", "echo started"), 0);
  ASSERT_TRUE(fleet.waitObserved("web1", "artifact.observed", 20s));
  std::ofstream(artifact) << "api build 1.9.3\n";  // web2 still has the previous build
  EXPECT_EQ(deployWithHook(fleet, "web2", "r303", "restart",
                           "echo 'api: schema version 7 expected, found 6' >&2; exit 1"),
            1);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r303");
  judge({"artifact-mismatch", {"web2"}, "artifact.observed"}, answer);
}

TEST_P(HostScenario, DependencyManifestChangedSinceTheLastGoodRelease) {
  Fleet fleet(GetParam());
  std::filesystem::path manifest = fleet.dir() / "requirements.txt";
  fleet.addHost("web1", "[service.api]\ndependency_manifests = [\"" + manifest.string() + "\"]\n");
  std::ofstream(manifest) << "flask==2.2.5\nsqlalchemy==1.4.49\n";
  ASSERT_EQ(fleet.registerRelease("r304", "api", ciRelease({"web1"})).status, 201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r304", "restart", "echo started"), 0);
  ASSERT_TRUE(fleet.waitObserved("web1", "dependency.fingerprint", 20s));
  std::ofstream(manifest) << "flask==2.2.5\nsqlalchemy==2.0.23\n";
  json next = ciRelease({"web1"});
  next["commit"] = "e5f6a7b8";
  ASSERT_EQ(fleet.registerRelease("r305", "api", next).status, 201);
  EXPECT_EQ(deployWithHook(
                fleet, "web1", "r305", "restart",
                "echo \"AttributeError: 'Engine' object has no attribute 'execute'\" >&2; exit 1"),
            1);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r305");
  judge({"dependency-change", {"web1"}, "requirements.txt"}, answer);
  EXPECT_TRUE(rootCause(fleet.causes("r304")).empty()) << fleet.causes("r304").dump(2);
}

int closedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);  // nobody listens there now
  return ntohs(addr.sin_port);
}

TEST_P(HostScenario, HealthProbeFailingAfterTheDeployIsOrchestration) {
  Fleet fleet(GetParam());
  std::string url = "http://127.0.0.1:" + std::to_string(closedPort()) + "/healthz";
  fleet.addHost(
      "web1", "[service.api]\nhealth_interval_seconds = 1\nhealth = [{ type = \"http\", url = \"" +
                  url + "\", expect_status = 200, timeout_ms = 500 }]\n");
  ASSERT_EQ(fleet.registerRelease("r306", "api", ciRelease({"web1"})).status, 201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r306", "restart", "echo restarted"), 0);
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=health.failed"));
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r306");
  judge({"orchestration", {"web1"}, "health.failed"}, answer);
}

INSTANTIATE_TEST_SUITE_P(Twins, HostScenario, ::testing::Values(Twin::quiet, Twin::noisy),
                         TwinName());

}  // namespace
}  // namespace octolaunch::testing
