#include "agent/sources/cgroup/memory_events_source.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "agent/parse/cgroup_path.h"
#include "agent/parse/memory_events.h"

namespace octolaunch::sources {

struct MemoryEventsSource::Watched {
  explicit Watched(asio::io_context& io) : eventfd(io), reportTimer(io) {}
  ~Watched() {
    if (counterFd >= 0) ::close(counterFd);
  }
  std::string rel;
  int counterFd = -1;
  std::uint64_t lastOomKill = 0;
  std::uint64_t pendingKills = 0;
  std::int64_t firstSeenNs = 0;  // when the pending kills were first noticed (0: none pending)
  int inotifyWd = -1;
  asio::posix::stream_descriptor eventfd;  // v1 OOM notifier
  asio::steady_timer reportTimer;
  bool reportArmed = false;
};

namespace {

std::string normaliseRel(std::string rel) {
  if (rel.empty() || rel.front() != '/') rel.insert(rel.begin(), '/');
  while (rel.size() > 1 && rel.back() == '/') rel.pop_back();
  return rel;
}

std::optional<std::string> readFd(int fd) {
  char buffer[1024];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer, 0);
  if (n < 0) return std::nullopt;
  return std::string(buffer, static_cast<std::size_t>(n));
}

bool controllersHaveMemory(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string word;
  while (in >> word) {
    if (word == "memory") return true;
  }
  return false;
}

}  // namespace

MemoryEventsSource::MemoryEventsSource(asio::io_context& io, EventOut& out, OomLedger& ledger,
                                       CgroupConfig config)
    : io_(io),
      out_(out),
      ledger_(ledger),
      config_(std::move(config)),
      inotify_(io),
      pollTimer_(io) {}

MemoryEventsSource::~MemoryEventsSource() = default;

std::filesystem::path MemoryEventsSource::dirOf(const std::string& rel) const {
  return rel == "/" ? hierarchy_ : hierarchy_ / rel.substr(1);
}

bool MemoryEventsSource::start() {
  const auto& root = config_.root;
  if (::access(root.c_str(), R_OK | X_OK) != 0 && (errno == EACCES || errno == EPERM)) {
    degraded_.set("cgroup",
                  "cannot read the cgroup hierarchy at " + root.string() + ": " +
                      std::strerror(errno) +
                      "; OOM kills counted in memory.events are not reported, source off",
                  "let the agent's user read " + root.string() +
                      " (the packaged unit mounts it read-only: ProtectControlGroups=yes)");
    return false;
  }
  if (controllersHaveMemory(root / "cgroup.controllers")) {
    version_ = 2;
    hierarchy_ = root;
    counterFile_ = "memory.events";
  } else if (std::filesystem::exists(root / "memory" / "memory.oom_control")) {
    version_ = 1;
    hierarchy_ = root / "memory";
    counterFile_ = "memory.oom_control";
  } else if (std::filesystem::exists(root / "memory.oom_control")) {
    version_ = 1;
    hierarchy_ = root;
    counterFile_ = "memory.oom_control";
  } else {
    spdlog::warn(
        "sources: cgroup: no memory controller under {} (neither v2 memory.events nor v1 "
        "memory.oom_control); "
        "source off",
        root.string());
    return false;
  }
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    spdlog::warn("sources: cgroup: inotify_init1 failed: {}; source off", std::strerror(errno));
    return false;
  }
  inotify_.assign(fd);
  rescan(true);
  waitInotify();
  armPoll();
  spdlog::info("sources: cgroup: v{} memory hierarchy at {}, watching {} cgroup(s)", version_,
               hierarchy_.string(), watched_.size());
  return true;
}

void MemoryEventsSource::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  inotify_.close(ignored);
  pollTimer_.cancel();
  for (auto& [rel, w] : watched_) {
    w->eventfd.close(ignored);
    w->reportTimer.cancel();
  }
}

void MemoryEventsSource::rescan(bool atStart) {
  std::set<std::string> present;
  for (const auto& slice : config_.slices) {
    const std::string sliceRel = normaliseRel(slice);
    const auto dir = dirOf(sliceRel);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    bool watchedSlice = false;
    for (const auto& [wd, rel] : sliceWatches_) watchedSlice = watchedSlice || rel == sliceRel;
    if (!watchedSlice) {
      const int wd =
          ::inotify_add_watch(inotify_.native_handle(), dir.c_str(),
                              IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
      if (wd >= 0) sliceWatches_[wd] = sliceRel;
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_directory(ec)) present.insert(sliceRel + "/" + entry.path().filename().string());
    }
  }
  for (const auto& cgroup : config_.cgroups) {
    const std::string rel = normaliseRel(cgroup);
    std::error_code ec;
    if (std::filesystem::is_directory(dirOf(rel), ec)) present.insert(rel);
  }
  for (const auto& rel : present) {
    if (!watched_.contains(rel)) addCgroup(rel, !atStart);
  }
  std::vector<std::string> gone;
  for (const auto& [rel, w] : watched_) {
    if (!present.contains(rel) && !w->reportArmed) gone.push_back(rel);
  }
  for (const auto& rel : gone) removeCgroup(rel);
}

void MemoryEventsSource::addCgroup(const std::string& rel, bool createdSinceStart) {
  const auto dir = dirOf(rel);
  const auto file = dir / counterFile_;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // no memory controller in this cgroup (or it just vanished)
  auto w = std::make_unique<Watched>(io_);
  w->rel = rel;
  w->counterFd = fd;
  // A cgroup that appeared while we watch started from zero: every kill in it is new.
  if (!createdSinceStart) {
    if (auto text = readFd(fd))
      w->lastOomKill = parse::parseMemoryEvents(*text).oomKill().value_or(0);
  }
  if (version_ == 2) {
    w->inotifyWd = ::inotify_add_watch(inotify_.native_handle(), file.c_str(), IN_MODIFY);
    if (w->inotifyWd >= 0) fileWatches_[w->inotifyWd] = rel;
  } else {
    const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd >= 0) {
      const std::string registration = std::to_string(efd) + " " + std::to_string(fd);
      const int control = ::open((dir / "cgroup.event_control").c_str(), O_WRONLY | O_CLOEXEC);
      const bool ok =
          control >= 0 && ::write(control, registration.c_str(), registration.size()) >= 0;
      if (control >= 0) ::close(control);
      if (ok) {
        w->eventfd.assign(efd);
      } else {
        ::close(efd);  // the slow poll still reads the counter
      }
    }
  }
  Watched& ref = *w;
  watched_[rel] = std::move(w);
  if (ref.eventfd.is_open()) waitOomEventfd(ref);
  if (createdSinceStart && readCounter(ref))
    armReport(ref);  // a kill may have come before the watch
}

void MemoryEventsSource::removeCgroup(const std::string& rel) {
  auto it = watched_.find(rel);
  if (it == watched_.end()) return;
  if (it->second->inotifyWd >= 0) {
    ::inotify_rm_watch(inotify_.native_handle(), it->second->inotifyWd);
    fileWatches_.erase(it->second->inotifyWd);
  }
  boost::system::error_code ignored;
  it->second->eventfd.close(ignored);
  it->second->reportTimer.cancel();
  watched_.erase(it);
}

bool MemoryEventsSource::readCounter(Watched& w) {
  const auto text = readFd(w.counterFd);
  if (!text) return false;
  const auto kills = parse::parseMemoryEvents(*text).oomKill();
  if (!kills || *kills <= w.lastOomKill) return false;
  if (w.firstSeenNs == 0) w.firstSeenNs = out_.clock().nowNs();
  w.pendingKills += *kills - w.lastOomKill;
  w.lastOomKill = *kills;
  return true;
}

void MemoryEventsSource::armReport(Watched& w) {
  if (w.reportArmed) return;
  w.reportArmed = true;
  w.reportTimer.expires_after(std::chrono::milliseconds(config_.dedupeWindowMs));
  const std::string rel = w.rel;
  w.reportTimer.async_wait([this, rel](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    report(rel);
  });
}

void MemoryEventsSource::report(const std::string& rel) {
  auto it = watched_.find(rel);
  if (it == watched_.end()) return;
  Watched& w = *it->second;
  w.reportArmed = false;
  readCounter(w);  // v1: the notifier fires before the kill is counted
  const std::uint64_t count = w.pendingKills;
  const std::int64_t seenNs = w.firstSeenNs;
  w.pendingKills = 0;
  w.firstSeenNs = 0;
  if (count == 0) return;
  // kmsg's line for the same kill is claimed within this window (the poll may notice late).
  const std::int64_t windowNs =
      (static_cast<std::int64_t>(config_.dedupeWindowMs) + config_.pollIntervalMs + 2000) *
      1'000'000;
  const std::size_t claimed = ledger_.claim(rel, seenNs, windowNs, count);
  EventBatch batch;
  for (std::uint64_t i = claimed; i < count; ++i) {
    // Named, and timed, by a kill some source read but did not report (the journal's kernel
    // lines); else the time the counter rose (or the v1 notifier fired), not the time of this
    // report.
    const auto known = ledger_.claimUnreported(rel, seenNs, windowNs);
    auto event = batch.add(known ? known->timeNs : seenNs);
    auto kill = event.getPayload().initOomKill();
    if (known) {
      kill.setPid(known->pid);
      kill.setProcess(known->process);
    }
    kill.setMemcg(known && !known->memcg.empty() ? known->memcg : rel);
    kill.setTaskMemcg(rel);
    kill.setUnit(parse::unitFromCgroup(rel));
    kill.setContainerId(parse::containerIdFromCgroup(rel));
    kill.setKiller("kernel");
    kill.setSource(version_ == 2 ? "memory.events" : "memory.oom_control");
  }
  if (!batch.empty()) {
    spdlog::info("sources: cgroup: {} OOM kill(s) in {} that the kernel log did not name",
                 batch.size(), rel);
  }
  out_.publish(batch);
}

void MemoryEventsSource::waitInotify() {
  inotify_.async_wait(asio::posix::descriptor::wait_read,
                      [this](const boost::system::error_code& ec) {
                        if (ec || stopped_) return;
                        drainInotify();
                        waitInotify();
                      });
}

void MemoryEventsSource::drainInotify() {
  alignas(inotify_event) char buffer[4096];
  bool rescanNeeded = false;
  for (;;) {
    const ssize_t n = ::read(inotify_.native_handle(), buffer, sizeof buffer);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      if (event->mask & IN_Q_OVERFLOW) rescanNeeded = true;
      if (auto f = fileWatches_.find(event->wd); f != fileWatches_.end()) {
        if (auto w = watched_.find(f->second); w != watched_.end() && (event->mask & IN_MODIFY)) {
          if (readCounter(*w->second)) armReport(*w->second);
        }
        if (event->mask & IN_IGNORED) fileWatches_.erase(f);
        continue;
      }
      if (auto s = sliceWatches_.find(event->wd); s != sliceWatches_.end()) {
        if (event->mask & IN_IGNORED) {
          sliceWatches_.erase(s);
          continue;
        }
        if (event->len == 0 || !(event->mask & IN_ISDIR)) continue;
        const std::string rel = (s->second == "/" ? std::string() : s->second) + "/" + event->name;
        if (event->mask & (IN_CREATE | IN_MOVED_TO)) addCgroup(rel, true);
        if (event->mask & (IN_DELETE | IN_MOVED_FROM)) {
          if (auto w = watched_.find(rel); w != watched_.end() && !w->second->reportArmed)
            removeCgroup(rel);
        }
      }
    }
  }
  if (rescanNeeded) rescan(false);
}

void MemoryEventsSource::waitOomEventfd(Watched& w) {
  const std::string rel = w.rel;
  w.eventfd.async_wait(
      asio::posix::descriptor::wait_read, [this, rel](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        auto it = watched_.find(rel);
        if (it == watched_.end()) return;
        Watched& w = *it->second;
        std::uint64_t value = 0;
        while (::read(w.eventfd.native_handle(), &value, sizeof value) == sizeof value) {
        }
        // The notifier fires when the cgroup hits OOM (and when it is removed): the kill, if any,
        // is counted a moment later; report() re-reads the counter. The OOM is timed now.
        if (w.firstSeenNs == 0) w.firstSeenNs = out_.clock().nowNs();
        readCounter(w);
        armReport(w);
        waitOomEventfd(w);
      });
}

void MemoryEventsSource::armPoll() {
  pollTimer_.expires_after(std::chrono::milliseconds(config_.pollIntervalMs));
  pollTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    rescan(false);
    if (version_ == 1) {
      for (auto& [rel, w] : watched_) {
        if (readCounter(*w)) armReport(*w);
      }
    }
    armPoll();
  });
}

}  // namespace octolaunch::sources
