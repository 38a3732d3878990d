// Scenarios whose evidence comes from the host itself: a real full filesystem, real kernel OOM
// kills in a memory cgroup, the artifact, config and dependency files on the host, health probes.
// Those needing root and cgroup v1 skip with the reason (and fail in CI, which must run them).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/scenarios/cause_checks.h"
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

bool eventArrived(Fleet& fleet, const std::string& query) {
  return waitUntil([&] { return !allEvents(fleet.collector().httpPort(), query).empty(); }, 20s);
}

std::string sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::ostringstream out;
  for (unsigned char c : digest) out << std::hex << (c >> 4) << (c & 0xf);
  return out.str();
}

// A cgroup v1 memory cgroup with a limit, removed afterwards.
class MemoryCgroup final {
 public:
  explicit MemoryCgroup(const std::string& relative) : path_("/sys/fs/cgroup/memory/" + relative) {
    std::filesystem::create_directories(path_);
    std::ofstream(path_ / "memory.limit_in_bytes") << (32 << 20);
  }
  ~MemoryCgroup() { rmdir(path_.c_str()); }
  std::filesystem::path procs() const { return path_ / "cgroup.procs"; }

 private:
  std::filesystem::path path_;
};

std::string needMemcgV1() {
  if (geteuid() != 0) return "needs root to create a memory cgroup";
  if (!std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
    return "needs cgroup v1 memory controller at /sys/fs/cgroup/memory";
  if (access("/dev/kmsg", R_OK) != 0) return "needs a readable /dev/kmsg";
  return "";
}

// A shell line that moves itself into the cgroup and allocates past its limit.
std::string oomScript(const MemoryCgroup& cg) {
  return "echo $$ > " + cg.procs().string() +
         " && exec python3 -c \"a = []\nwhile True: a.append(bytearray(1 << 20))\"";
}

TEST(HostScenario, DiskFilledUnderAFailingMigrationIsTheRootCause) {
  if (geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs root to mount a small tmpfs");
  Fleet fleet;
  std::filesystem::path data = fleet.dir() / "web1-data";
  std::filesystem::create_directories(data);
  ASSERT_EQ(mount("tmpfs", data.c_str(), "tmpfs", 0, "size=1m"), 0) << strerror(errno);
  struct Unmount {
    std::filesystem::path p;
    ~Unmount() { umount2(p.c_str(), MNT_DETACH); }
  } unmount{data};

  fleet.addHost("web1", "[sources.disk]\nmounts = [\"" + data.string() +
                            "\"]\ninclude_tmpfs = true\ninterval_ms = 100\n");
  fleet.addHost("web2");
  ASSERT_EQ(fleet.registerRelease("r300", "api", ciRelease({"web1", "web2"})).status, 201);
  // The migration fills the disk, and fails once the agent has reported the full disk (as a real
  // one fails at its next write): it waits, at most 10 s, until the collector has the disk.full.
  std::string fill =
      "dd if=/dev/zero of=" + (data / "orders.idx").string() +
      " bs=64k count=64 2>/dev/null; for i in $(seq 200); do curl -sf '" + fleet.collector().url() +
      "/api/v1/events?host=web1&kind=disk.full' | grep -q disk.full && break; sleep 0.05; done; "
      "echo 'ERROR: could not extend file \"base/16384/24576\": No space left on device' >&2; exit "
      "1";
  EXPECT_EQ(deployWithHook(fleet, "web1", "r300", "migrate", fill), 1);
  EXPECT_EQ(deployWithHook(fleet, "web2", "r300", "migrate", "echo migrated"), 0);
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=disk.full"));
  ASSERT_TRUE(fleet.waitDelivered(20s));

  json answer = fleet.causes("r300");
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "resource-exhaustion") << answer.dump(2);
  EXPECT_EQ(top.value("hosts_affected", 0), 1);
  EXPECT_TRUE(mentions(top, "disk.full")) << top.dump(2);
  // The migration failure is still there, as evidence below the root cause.
  EXPECT_TRUE(anyCauseHasEvidenceKind(answer, "hook.exit")) << answer.dump(2);
}

TEST(HostScenario, KernelOomKillOfTheServiceDuringTheDeploy) {
  if (auto why = needMemcgV1(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  Fleet fleet;
  MemoryCgroup cg("octolaunch-scenario-" + std::to_string(getpid()) + "/api.service");
  fleet.addHost("web1", "[sources.kmsg]\nenabled = true\nrecover_previous_boot = false\n");
  fleet.addHost("web2");
  ASSERT_EQ(fleet.registerRelease("r301", "api", ciRelease({"web1", "web2"})).status, 201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r301", "warmup", oomScript(cg)), 128 + 9);
  EXPECT_EQ(deployWithHook(fleet, "web2", "r301", "warmup", "echo warm"), 0);
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=oom.kill"));
  ASSERT_TRUE(fleet.waitDelivered(20s));

  json answer = fleet.causes("r301");
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "resource-exhaustion") << answer.dump(2);
  EXPECT_EQ(top.value("hosts_affected", 0), 1);
  EXPECT_TRUE(mentions(top["evidence"], "oom.kill")) << top.dump(2);
  EXPECT_TRUE(mentions(top["open_first"], kJobUrl)) << top.dump(2);
}

TEST(HostScenario, UnrelatedOomOfAnotherServiceDoesNotOutrankTheRealCause) {
  if (auto why = needMemcgV1(); !why.empty()) OCTOLAUNCH_SKIP_UNLESS_CI(why);
  Fleet fleet;
  MemoryCgroup worker("octolaunch-scenario-" + std::to_string(getpid()) + "/worker.service");
  fleet.addHost("web1", "[sources.kmsg]\nenabled = true\nrecover_previous_boot = false\n");
  fleet.addHost("web2");
  ASSERT_EQ(fleet.registerRelease("r302", "api", ciRelease({"web1", "web2"})).status, 201);
  for (auto h : {"web1", "web2"}) fleet.deploy(h, "start", "r302", "api");
  // Another service on web1 is OOM-killed during api's deploy window.
  EXPECT_EQ(run({"sh", "-c", oomScript(worker)}, 60s).exitCode, 128 + 9);
  for (auto h : {"web1", "web2"}) {
    EXPECT_EQ(fleet.hook(h, "r302", "api", "migrate",
                         "echo 'ERROR: syntax error at or near \"FROM\"' >&2; exit 2"),
              2);
    fleet.deploy(h, "finish", "r302", "api", "failed");
  }
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=oom.kill"));
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r302");
  EXPECT_EQ(topCause(answer).value("category", ""), "deploy-script") << answer.dump(2);
  EXPECT_EQ(topCause(answer).value("hosts_affected", 0), 2);
}

TEST(HostScenario, ArtifactOnOneHostIsNotWhatCiBuilt) {
  Fleet fleet;
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
  std::ofstream(artifact) << "api build 1.9.3\n";  // web2 still has the previous build
  EXPECT_EQ(deployWithHook(fleet, "web2", "r303", "restart",
                           "echo 'api: schema version 7 expected, found 6' >&2; exit 1"),
            1);
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r303");
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "artifact-mismatch") << answer.dump(2);
  EXPECT_EQ(top.value("hosts_affected", 0), 1);
  EXPECT_TRUE(mentions(top, "web2")) << top.dump(2);
  EXPECT_TRUE(mentions(top["evidence"], "artifact.observed")) << top.dump(2);
}

TEST(HostScenario, DependencyManifestChangedSinceTheLastGoodRelease) {
  Fleet fleet;
  std::filesystem::path manifest = fleet.dir() / "requirements.txt";
  fleet.addHost("web1", "[service.api]\ndependency_manifests = [\"" + manifest.string() + "\"]\n");
  std::ofstream(manifest) << "flask==2.2.5\nsqlalchemy==1.4.49\n";
  ASSERT_EQ(fleet.registerRelease("r304", "api", ciRelease({"web1"})).status, 201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r304", "restart", "echo started"), 0);
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
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "dependency-change") << answer.dump(2);
  EXPECT_TRUE(mentions(top, "requirements.txt")) << top.dump(2);
  EXPECT_TRUE(fleet.causes("r304")["causes"].empty() ||
              topCause(fleet.causes("r304")).value("context", false));
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

TEST(HostScenario, HealthProbeFailingAfterTheDeployIsOrchestration) {
  Fleet fleet;
  std::string url = "http://127.0.0.1:" + std::to_string(closedPort()) + "/healthz";
  fleet.addHost(
      "web1", "[service.api]\nhealth_interval_seconds = 1\nhealth = [{ type = \"http\", url = \"" +
                  url + "\", expect_status = 200, timeout_ms = 500 }]\n");
  ASSERT_EQ(fleet.registerRelease("r306", "api", ciRelease({"web1"})).status, 201);
  EXPECT_EQ(deployWithHook(fleet, "web1", "r306", "restart", "echo restarted"), 0);
  ASSERT_TRUE(eventArrived(fleet, "host=web1&kind=health.failed"));
  ASSERT_TRUE(fleet.waitDelivered(20s));
  json answer = fleet.causes("r306");
  const json& top = topCause(answer);
  EXPECT_EQ(top.value("category", ""), "orchestration") << answer.dump(2);
  EXPECT_TRUE(mentions(top["evidence"], "health.failed")) << top.dump(2);
}

}  // namespace
}  // namespace octolaunch::testing
