#include "tests/scenarios/background.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>

namespace octolaunch::testing {

namespace {

using namespace std::chrono_literals;

constexpr const char* kMemoryRoot = "/sys/fs/cgroup/memory";

bool onPath(const std::string& program) {
  return run({"sh", "-c", "command -v " + program}, 10s).exitCode == 0;
}

}  // namespace

std::string noiseUnavailable() {
  if (geteuid() != 0) return "needs root for memory cgroups and OOM kills";
  if (!std::filesystem::exists(std::string(kMemoryRoot) + "/memory.limit_in_bytes"))
    return std::string("needs the cgroup v1 memory controller at ") + kMemoryRoot;
  if (access("/dev/kmsg", R_OK) != 0) return "needs a readable /dev/kmsg";
  if (!onPath("stress-ng")) return "needs stress-ng (Debian package stress-ng)";
  if (!onPath("python3")) return "needs python3";
  return journalFeedUnavailable();
}

MemoryCgroup::MemoryCgroup(const std::filesystem::path& path, std::size_t limitBytes)
    : path_(path) {
  std::filesystem::create_directories(path_);
  if (limitBytes > 0) std::ofstream(path_ / "memory.limit_in_bytes") << limitBytes;
}

MemoryCgroup::~MemoryCgroup() {
  for (int attempt = 0; attempt < 250; ++attempt) {
    if (::rmdir(path_.c_str()) == 0 || errno == ENOENT) return;
    std::ifstream procs(this->procs());
    for (pid_t pid; procs >> pid;) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(20ms);  // the killed tasks leave the cgroup as they are reaped
  }
  std::cerr << "could not remove cgroup " << path_ << ": " << std::strerror(errno) << "\n";
}

std::string MemoryCgroup::name() const {
  return "/" + std::filesystem::relative(path_, kMemoryRoot).string();
}

std::string MemoryCgroup::oomScript() const {
  return "echo $$ > " + procs().string() +
         " && exec python3 -c \"a = []\nwhile True: a.append(bytearray(1 << 20))\"";
}

std::filesystem::path newCgroupScope() {
  static std::atomic<int> next{0};
  return std::filesystem::path(kMemoryRoot) /
         ("octolaunch-fleet-" + std::to_string(getpid()) + "-" + std::to_string(next++));
}

Background::Background(const std::filesystem::path& workDir) {
  // One worker each: a cpu hog at 60 % and a disk writer syncing its writes, so that cpu and io
  // pressure rise and fall as on a host doing ordinary background work.
  stress_ = std::make_unique<Process>(
      ProcessOptions{.argv = {"stress-ng", "--cpu", "1", "--cpu-load", "60", "--hdd", "1",
                              "--hdd-bytes", "16M", "--hdd-opts", "fsync", "--temp-path",
                              workDir.string(), "--timeout", "1800", "--quiet"},
                     .captureStdout = false,
                     .discardStdout = true,
                     .workDir = workDir.string()});
  thread_ = std::thread([this] { loop(); });
}

Background::~Background() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  stress_->signal(SIGKILL);
  stress_->wait(10s);
  victims_.clear();  // kills and reaps what is still running
  hosts_.clear();
}

void Background::addHost(const std::filesystem::path& hostScope, JournalFeed& journal,
                         const std::filesystem::path& healthFlag) {
  Host host{std::make_unique<MemoryCgroup>(hostScope / kNoiseUnit, 16u << 20), &journal,
            healthFlag};
  std::lock_guard lock(mutex_);
  hosts_.push_back(std::move(host));
}

bool Background::waitWarm(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return warm_.wait_for(lock, timeout, [this] {
    return std::all_of(hosts_.begin(), hosts_.end(),
                       [](const Host& h) { return h.kills > 0 && h.flaps > 0; });
  });
}

void Background::loop() {
  // The noise is paced by a 500 ms tick: a batch-worker OOM kill every 1 s (hosts in turn), a
  // batch-worker failure in a journal every 1.5 s (hosts in turn), its health probe failing
  // 1.5 s of every 4 s on every host.
  std::unique_lock lock(mutex_);
  for (unsigned tick = 0; !stopping_; ++tick) {
    std::erase_if(victims_, [this](const Victim& v) {
      if (v.process->running()) return false;
      ++hosts_[v.host].kills;
      return true;
    });
    if (!hosts_.empty()) {
      if (tick % 2 == 0) {
        std::size_t i = (tick / 2) % hosts_.size();
        victims_.push_back({std::make_unique<Process>(
                                ProcessOptions{.argv = {"sh", "-c", hosts_[i].batch->oomScript()},
                                               .captureStdout = false,
                                               .discardStdout = true}),
                            i});
      }
      if (tick % 3 == 1) {
        Host& h = hosts_[(tick / 3) % hosts_.size()];
        try {
          h.journal->failOnce(kNoiseUnit);
          ++h.flaps;
        } catch (const std::exception& e) {
          std::cerr << "background: " << e.what() << "\n";
        }
      }
      for (const Host& h : hosts_) {
        if (tick % 8 < 3) {
          std::ofstream(h.healthFlag) << "down\n";
        } else {
          std::filesystem::remove(h.healthFlag);
        }
      }
    }
    warm_.notify_all();
    wake_.wait_for(lock, 500ms, [this] { return stopping_; });
  }
}

}  // namespace octolaunch::testing
