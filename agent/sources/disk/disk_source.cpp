#include "agent/sources/disk/disk_source.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <fstream>
#include <set>
#include <sstream>

#include "agent/sources/disk/mountinfo.h"

namespace octolaunch::sources {

namespace {

std::string readFile(const std::filesystem::path& path, bool& ok) {
  std::ifstream in(path);
  ok = static_cast<bool>(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void fill(schema::Exhaustion::Builder x, Transition t, const std::string& mount,
          const std::string& fsType, double used, std::uint64_t free, std::uint64_t total,
          double threshold, bool atStart) {
  x.setState(t == Transition::raised ? schema::Pressure::State::RAISED
                                     : schema::Pressure::State::CLEARED);
  x.setMount(mount);
  x.setFsType(fsType);
  x.setUsedPercent(used);
  x.setFree(free);
  x.setTotal(total);
  x.setThreshold(threshold);
  x.setAtStart(atStart);
}

}  // namespace

DiskSource::DiskSource(asio::io_context& io, EventOut& out, DiskConfig config)
    : out_(out),
      config_(std::move(config)),
      timer_(io, std::chrono::milliseconds(config_.intervalMs), [this] { scan(); }) {}

bool DiskSource::start() {
  scan();
  timer_.start();
  spdlog::info("sources: disk: watching {} filesystem(s) every {} ms (space {}%, inodes {}%)",
               mounts_.size(), config_.intervalMs, config_.usedPercent, config_.inodeUsedPercent);
  return true;
}

void DiskSource::stop() { timer_.stop(); }

void DiskSource::scan() {
  bool ok = false;
  const auto entries = parseMountinfo(readFile(config_.mountinfo, ok));
  if (!ok && !loggedMountinfo_) {
    loggedMountinfo_ = true;
    spdlog::warn("sources: disk: cannot read {}", config_.mountinfo.string());
  }
  // Which mount points to look at now: configured ones (whatever their type), else real
  // filesystems, one mount point per device.
  std::map<std::string, std::string> wanted;  // mount point -> fs type
  if (!config_.mounts.empty()) {
    for (const auto& m : config_.mounts) {
      std::string type;
      for (const auto& e : entries) {
        if (e.mountPoint == m) type = e.fsType;
      }
      wanted[m] = type;
    }
  } else {
    std::set<std::string> devices;
    for (const auto& e : entries) {
      if (!isWatchedFilesystem(e, config_.includeTmpfs)) continue;
      if (!devices.insert(e.device).second) continue;
      wanted[e.mountPoint] = e.fsType;
    }
  }
  for (auto it = mounts_.begin(); it != mounts_.end();) {
    it = wanted.contains(it->first) ? std::next(it) : mounts_.erase(it);
  }

  EventBatch batch;
  const std::int64_t now = out_.clock().nowNs();
  for (const auto& [mount, fsType] : wanted) {
    struct statvfs st {};
    if (::statvfs(mount.c_str(), &st) != 0)
      continue;  // vanished or not a filesystem: nothing to report
    auto [it, inserted] = mounts_.try_emplace(
        mount, Watched{fsType, ThresholdState(config_.usedPercent, config_.clearMarginPercent),
                       ThresholdState(config_.inodeUsedPercent, config_.clearMarginPercent)});
    Watched& w = it->second;
    const std::uint64_t frsize = st.f_frsize ? st.f_frsize : st.f_bsize;
    // df's arithmetic: used / (used + available to unprivileged users).
    const std::uint64_t usedBlocks = st.f_blocks - st.f_bfree;
    const std::uint64_t denominator = usedBlocks + st.f_bavail;
    if (st.f_blocks > 0 && denominator > 0) {
      const double used =
          100.0 * static_cast<double>(usedBlocks) / static_cast<double>(denominator);
      const auto t = w.space.update(used);
      if (t != Transition::none) {
        auto event = batch.add(now);
        fill(event.getPayload().initDiskFull(), t, mount, w.fsType, used, st.f_bavail * frsize,
             st.f_blocks * frsize, config_.usedPercent, firstScan_);
      }
    }
    if (st.f_files > 0) {  // btrfs and some others have no inode limit
      const double used =
          100.0 * static_cast<double>(st.f_files - st.f_ffree) / static_cast<double>(st.f_files);
      const auto t = w.inodes.update(used);
      if (t != Transition::none) {
        auto event = batch.add(now);
        fill(event.getPayload().initInodeExhausted(), t, mount, w.fsType, used, st.f_favail,
             st.f_files, config_.inodeUsedPercent, firstScan_);
      }
    }
  }
  firstScan_ = false;
  out_.publish(batch);
}

}  // namespace octolaunch::sources
