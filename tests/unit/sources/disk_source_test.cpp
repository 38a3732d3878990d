// disk.full, inode.exhausted and fd.exhausted against real kernel state: a real small tmpfs that
// the test fills, and the real system file table.
#include "agent/sources/disk/disk_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/sources/disk/fd_source.h"
#include "agent/sources/disk/mountinfo.h"
#include "tests/support/fake_sink.h"
#include "tests/support/io_thread.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::sources {
namespace {

using namespace std::chrono_literals;
using testing::FakeSink;
using testing::IoThread;
using testing::TempDir;

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A real tmpfs mounted for one test.
class Tmpfs final {
 public:
  explicit Tmpfs(const std::string& options) {
    ok_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!ok_) error_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
  }
  ~Tmpfs() {
    if (ok_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::filesystem::path path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool ok_ = false;
  std::string error_;
};

// Writes until the filesystem is full (ENOSPC).
void fill(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  std::string block(4096, 'x');
  while (::write(fd, block.data(), block.size()) > 0) {
  }
  EXPECT_EQ(errno, ENOSPC);
  ::close(fd);
}

bool hasState(const std::vector<nlohmann::json>& events, const std::string& kind,
              const std::string& mount, const std::string& state) {
  for (const auto& e : events) {
    if (e.value("kind", "") == kind && e["data"].value("mount", "") == mount &&
        e["data"].value("state", "") == state) {
      return true;
    }
  }
  return false;
}

TEST(Mountinfo, RealMountinfoHasTheRootFilesystemAndSkipsPseudoFilesystems) {
  const auto mounts = parseMountinfo(slurp("/proc/self/mountinfo"));
  ASSERT_FALSE(mounts.empty());
  bool root = false;
  for (const auto& m : mounts) {
    if (m.mountPoint == "/") root = true;
    if (m.fsType == "proc" || m.fsType == "sysfs" || m.fsType == "cgroup") {
      EXPECT_FALSE(isWatchedFilesystem(m, true));
    }
    if (m.fsType == "tmpfs") {
      EXPECT_FALSE(isWatchedFilesystem(m, false));
      EXPECT_EQ(isWatchedFilesystem(m, true), !m.readOnly);
    }
  }
  EXPECT_TRUE(root);
}

TEST(Mountinfo, OctalEscapesInMountPointsAreDecoded) {
  // A line as the kernel writes it for a mount point with a space (show_mountinfo: mangle "
  // \t\n\\").
  const auto m = parseMountinfo(
      "36 35 98:0 /mnt1 /mnt\\040parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].mountPoint, "/mnt parent");
  EXPECT_EQ(m[0].fsType, "ext3");
  EXPECT_EQ(m[0].device, "98:0");
  EXPECT_TRUE(parseMountinfo("garbage\n\n1 2 3\n").empty());
}

class DiskSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("mounting a tmpfs needs root");
  }
  // Watches only fs, every 100 ms.
  static DiskConfig watching(const Tmpfs& fs) {
    DiskConfig config;
    config.mounts = {fs.path().string()};
    config.intervalMs = 100;
    return config;
  }
  FakeSink sink_;
  SystemClock clock_;
};

TEST_F(DiskSourceTest, FillingARealTmpfsRaisesDiskFullAndDeletingClearsIt) {
  Tmpfs fs("size=1m");
  ASSERT_TRUE(fs.ok()) << fs.error();
  IoThread io;
  EventOut out(sink_, clock_);
  DiskConfig config = watching(fs);
  config.usedPercent = 90;
  DiskSource source(io.io(), out, config);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  EXPECT_TRUE(sink_.events().empty()) << "an empty filesystem raised something";

  fill(fs.path() / "big");
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) { return hasState(e, "disk.full", fs.path().string(), "raised"); }, 2s));
  const auto raised = sink_.eventsOfKind("disk.full").at(0)["data"];
  EXPECT_EQ(raised.value("fs_type", ""), "tmpfs");
  EXPECT_GE(raised.value("used_percent", 0.0), 90.0);
  EXPECT_EQ(raised.value("total", 0), 1u << 20);
  EXPECT_DOUBLE_EQ(raised.value("threshold", 0.0), 90.0);

  std::filesystem::remove(fs.path() / "big");
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) { return hasState(e, "disk.full", fs.path().string(), "cleared"); }, 2s));
  EXPECT_EQ(sink_.eventsOfKind("disk.full").size(), 2u) << "one raised and one cleared, no samples";
  io.run([&] { source.stop(); });
}

TEST_F(DiskSourceTest, AFilesystemAlreadyFullAtStartIsRaisedAtOnceAsAtStart) {
  Tmpfs fs("size=1m");
  ASSERT_TRUE(fs.ok()) << fs.error();
  fill(fs.path() / "big");
  IoThread io;
  EventOut out(sink_, clock_);
  DiskConfig config = watching(fs);
  config.usedPercent = 90;
  config.intervalMs = 60'000;  // no timed scan within the test: only the start reports
  DiskSource source(io.io(), out, config);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  const auto events = sink_.eventsOfKind("disk.full");  // published inside start()
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["data"].value("state", ""), "raised");
  EXPECT_TRUE(events[0]["data"].value("at_start", false));
  io.run([&] { source.stop(); });

  // Filled while watched: a raise, not at start.
  std::filesystem::remove(fs.path() / "big");
  FakeSink later;
  EventOut laterOut(later, clock_);
  config.intervalMs = 100;
  DiskSource watching2(io.io(), laterOut, config);
  ASSERT_TRUE(io.run([&] { return watching2.start(); }));
  fill(fs.path() / "big");
  ASSERT_TRUE(later.waitFor(
      [&](const auto& e) { return hasState(e, "disk.full", fs.path().string(), "raised"); }, 2s));
  EXPECT_FALSE(later.eventsOfKind("disk.full").at(0)["data"].value("at_start", false));
  io.run([&] { watching2.stop(); });
}

TEST_F(DiskSourceTest, RunningOutOfInodesOnARealTmpfsRaisesInodeExhausted) {
  Tmpfs fs("size=4m,nr_inodes=64");
  ASSERT_TRUE(fs.ok()) << fs.error();
  IoThread io;
  EventOut out(sink_, clock_);
  DiskSource source(io.io(), out, watching(fs));
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  int created = 0;
  for (;; ++created) {
    const int fd =
        ::open((fs.path() / ("f" + std::to_string(created))).c_str(), O_WRONLY | O_CREAT, 0600);
    if (fd < 0) {
      EXPECT_EQ(errno, ENOSPC);
      break;
    }
    ::close(fd);
  }
  EXPECT_GT(created, 10);
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) { return hasState(e, "inode.exhausted", fs.path().string(), "raised"); },
      2s));
  EXPECT_TRUE(sink_.eventsOfKind("disk.full").empty());
  for (int i = 0; i < created; ++i) std::filesystem::remove(fs.path() / ("f" + std::to_string(i)));
  ASSERT_TRUE(sink_.waitFor(
      [&](const auto& e) { return hasState(e, "inode.exhausted", fs.path().string(), "cleared"); },
      2s));
  io.run([&] { source.stop(); });
}

TEST_F(DiskSourceTest, DiscoveredTmpfsIsWatchedOnlyWhenTmpfsIsIncluded) {
  Tmpfs fs("size=1m");
  ASSERT_TRUE(fs.ok()) << fs.error();
  fill(fs.path() / "big");
  for (bool include : {false, true}) {
    FakeSink sink;
    IoThread io;
    EventOut out(sink, clock_);
    DiskConfig config;
    config.includeTmpfs = include;
    config.intervalMs = 100;
    DiskSource source(io.io(), out, config);
    ASSERT_TRUE(io.run([&] { return source.start(); }));
    EXPECT_EQ(hasState(sink.events(), "disk.full", fs.path().string(), "raised"), include);
    io.run([&] { source.stop(); });
  }
}

TEST(FileNr, ParsesTheRealFile) {
  const auto nr = parseFileNr(slurp("/proc/sys/fs/file-nr"));
  ASSERT_TRUE(nr.has_value());
  EXPECT_GT(nr->allocated, 0u);
  EXPECT_GT(nr->max, nr->allocated);
  EXPECT_FALSE(parseFileNr("12 x 3").has_value());
}

TEST(FdSourceTest, OpeningRealFilesPastTheThresholdRaisesAndClosingThemClears) {
  // The real system-wide table is far from full here, so the threshold is put ~1500 handles above
  // what is in use now, and the test opens 4000 real files (each open() is a new struct file).
  const auto before = parseFileNr(slurp("/proc/sys/fs/file-nr"));
  ASSERT_TRUE(before.has_value());
  const double perHandle = 100.0 / static_cast<double>(before->max);
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  FdConfig config;
  config.intervalMs = 100;
  config.usedPercent = static_cast<double>(before->allocated + 1500) * perHandle;
  config.clearMarginPercent = 700 * perHandle;
  FdSource source(io.io(), out, config);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  EXPECT_TRUE(sink.eventsOfKind("fd.exhausted").empty());

  std::vector<int> fds;
  for (int i = 0; i < 4000; ++i) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    fds.push_back(fd);
  }
  ASSERT_GE(fds.size(), 3000u) << "could not open enough files: " << std::strerror(errno);
  auto state = [&](const std::string& s) {
    return [s](const std::vector<nlohmann::json>& events) {
      for (const auto& e : events) {
        if (e.value("kind", "") == "fd.exhausted" && e["data"].value("state", "") == s) return true;
      }
      return false;
    };
  };
  EXPECT_TRUE(sink.waitFor(state("raised"), 2s));
  for (int fd : fds) ::close(fd);
  EXPECT_TRUE(sink.waitFor(state("cleared"), 2s));
  const auto events = sink.eventsOfKind("fd.exhausted");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["data"].value("total", std::uint64_t{0}), before->max);
  EXPECT_FALSE(events[0]["data"].value("at_start", false));
  io.run([&] { source.stop(); });
}

TEST(FdSourceTest, ATableAlreadyOverTheThresholdAtStartIsRaisedAtOnceAsAtStart) {
  const auto before = parseFileNr(slurp("/proc/sys/fs/file-nr"));
  ASSERT_TRUE(before.has_value());
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  FdConfig config;
  config.intervalMs = 60'000;
  // Below what is in use now: the table is "over" it from the start.
  config.usedPercent = static_cast<double>(before->allocated - before->unused) * 50.0 /
                       static_cast<double>(before->max);
  FdSource source(io.io(), out, config);
  ASSERT_TRUE(io.run([&] { return source.start(); }));
  const auto events = sink.eventsOfKind("fd.exhausted");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["data"].value("state", ""), "raised");
  EXPECT_TRUE(events[0]["data"].value("at_start", false));
  io.run([&] { source.stop(); });
}

TEST(FdSourceTest, MissingFileTurnsTheSourceOff) {
  FakeSink sink;
  SystemClock clock;
  IoThread io;
  EventOut out(sink, clock);
  FdConfig config;
  config.fileNr = "/nonexistent/file-nr";
  FdSource source(io.io(), out, config);
  EXPECT_FALSE(io.run([&] { return source.start(); }));
}

}  // namespace
}  // namespace octolaunch::sources
