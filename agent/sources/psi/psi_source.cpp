#include "agent/sources/psi/psi_source.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace octolaunch::sources {

struct PsiSource::Watch {
  Watch(asio::io_context& io, parse::PsiResource r, std::filesystem::path p)
      : resource(r), path(std::move(p)), descriptor(io), timer(io) {}
  parse::PsiResource resource;
  std::filesystem::path path;
  asio::posix::stream_descriptor descriptor;  // holds the trigger (trigger mode) or the open file
  asio::steady_timer timer;
  Mode mode = Mode::off;
  bool raised = false;
  std::int64_t lastTriggerMonoNs = 0;
  // The open episode (while raised): when it was raised and the highest avg10 seen in it.
  std::int64_t raisedNs = 0;
  double peakSome = 0;
  double peakFull = 0;
};

namespace {

parse::PsiResource resourceOf(const std::string& name) {
  if (name == "memory") return parse::PsiResource::memory;
  if (name == "io") return parse::PsiResource::io;
  return parse::PsiResource::cpu;
}

schema::Pressure::Resource schemaResource(parse::PsiResource r) {
  switch (r) {
    case parse::PsiResource::memory:
      return schema::Pressure::Resource::MEMORY;
    case parse::PsiResource::io:
      return schema::Pressure::Resource::IO;
    default:
      return schema::Pressure::Resource::CPU;
  }
}

std::optional<std::string> readAt(int fd) {
  char buffer[512];
  const ssize_t n = ::pread(fd, buffer, sizeof buffer, 0);
  if (n < 0) return std::nullopt;
  return std::string(buffer, static_cast<std::size_t>(n));
}

}  // namespace

PsiSource::PsiSource(asio::io_context& io, EventOut& out, PsiConfig config)
    : io_(io), out_(out), config_(std::move(config)) {}

PsiSource::~PsiSource() = default;

PsiSource::Mode PsiSource::mode(parse::PsiResource resource) const {
  for (const auto& w : watches_) {
    if (w->resource == resource) return w->mode;
  }
  return Mode::off;
}

bool PsiSource::start() {
  for (const auto& name : config_.resources) {
    // /proc/pressure/<name>, or a cgroup v2 directory's <name>.pressure.
    std::filesystem::path path = config_.dir / name;
    if (!std::filesystem::exists(path) &&
        std::filesystem::exists(config_.dir / (name + ".pressure"))) {
      path = config_.dir / (name + ".pressure");
    }
    auto w = std::make_unique<Watch>(io_, resourceOf(name), path);
    if (open(*w)) {
      sampleAtStart(*w);
      if (w->mode == Mode::trigger) waitTrigger(*w);
      arm(*w);
    }
    watches_.push_back(std::move(w));
  }
  bool any = false;
  for (const auto& w : watches_) any = any || w->mode != Mode::off;
  return any;
}

void PsiSource::noTriggerPermission(const Watch& w, int err) {
  degraded_.set("psi",
                "cannot set a kernel trigger on " + w.path.string() + ": " + std::strerror(err) +
                    " (before Linux 6.5 a trigger needs CAP_SYS_RESOURCE); polling every " +
                    std::to_string(config_.pollIntervalMs) +
                    " ms instead, so short stalls between polls are missed",
                "grant CAP_SYS_RESOURCE (the packaged unit's AmbientCapabilities has it)");
}

bool PsiSource::open(Watch& w) {
  const char* name = parse::psiResourceName(w.resource);
  int fd = -1;
  if (config_.triggerStallUs > 0 && config_.triggerWindowUs > 0) {
    fd = ::open(w.path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      const std::string trigger = "some " + std::to_string(config_.triggerStallUs) + " " +
                                  std::to_string(config_.triggerWindowUs);
      if (::write(fd, trigger.c_str(), trigger.size() + 1) >= 0) {
        w.descriptor.assign(fd);
        w.mode = Mode::trigger;
        spdlog::info("sources: psi: {}: kernel trigger \"{}\"", name, trigger);
        return true;
      }
      const int err = errno;
      ::close(fd);
      fd = -1;
      if (err == EOPNOTSUPP) {
        spdlog::warn("sources: psi: {}: PSI is disabled in this kernel (EOPNOTSUPP); source off",
                     name);
        return false;
      }
      if (err == EPERM || err == EACCES) {
        noTriggerPermission(w, err);
      } else {
        spdlog::info(
            "sources: psi: {}: the kernel refused trigger \"{}\" ({}); polling every {} ms", name,
            trigger, std::strerror(err), config_.pollIntervalMs);
      }
    } else if (errno == EPERM || errno == EACCES) {
      noTriggerPermission(w, errno);
    } else if (errno == ENOENT) {
      spdlog::warn("sources: psi: {} missing (kernel without PSI); source off", w.path.string());
      return false;
    }
  }
  fd = ::open(w.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    spdlog::warn("sources: psi: cannot open {}: {}; source off", w.path.string(),
                 std::strerror(errno));
    return false;
  }
  if (!readAt(fd)) {
    spdlog::warn("sources: psi: cannot read {}: {}; source off", w.path.string(),
                 std::strerror(errno));
    ::close(fd);
    return false;
  }
  w.descriptor.assign(fd);
  w.mode = Mode::polling;
  return true;
}

void PsiSource::stop() {
  stopped_ = true;
  for (auto& w : watches_) {
    boost::system::error_code ignored;
    w->descriptor.close(ignored);
    w->timer.cancel();
  }
}

void PsiSource::waitTrigger(Watch& w) {
  w.descriptor.async_wait(asio::posix::descriptor::wait_error,
                          [this, &w](const boost::system::error_code& ec) {
                            if (ec || stopped_) return;
                            w.lastTriggerMonoNs = out_.clock().monotonicNs();
                            sample(w, true);
                            waitTrigger(w);
                          });
}

void PsiSource::arm(Watch& w) {
  // Trigger mode needs the timer only while raised (to see it clear); polling always.
  if (w.mode == Mode::trigger && !w.raised) return;
  w.timer.expires_after(std::chrono::milliseconds(config_.pollIntervalMs));
  w.timer.async_wait([this, &w](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    sample(w, false);
    arm(w);
  });
}

PsiSource::Reading PsiSource::read(Watch& w) {
  Reading r;
  const auto text = readAt(w.descriptor.native_handle());
  if (!text) return r;
  for (const auto& s : parse::parsePsi(*text, w.resource).samples) {
    if (s.line == "some") r.some = s;
    if (s.line == "full") r.full = s;
  }
  return r;
}

void PsiSource::sampleAtStart(Watch& w) {
  // Pressure already over the threshold when the agent starts is reported at once (atStart), in
  // either mode: a trigger only fires on stalls that happen from now on.
  const auto r = read(w);
  if (!r.some || r.some->avg10 < config_.someAvg10Percent) return;
  raise(w, *r.some, r.full, /*atStart=*/true);
}

void PsiSource::raise(Watch& w, const parse::PsiSample& some,
                      const std::optional<parse::PsiSample>& full, bool atStart) {
  w.raised = true;
  w.raisedNs = out_.clock().nowNs();
  w.peakSome = some.avg10;
  w.peakFull = full ? full->avg10 : 0;
  emit(w, true, some, full, atStart);
}

void PsiSource::sample(Watch& w, bool triggered) {
  const auto [some, full] = read(w);
  if (!some) return;
  if (!w.raised) {
    const bool raiseNow =
        triggered || (w.mode == Mode::polling && some->avg10 >= config_.someAvg10Percent);
    if (!raiseNow) return;
    raise(w, *some, full, /*atStart=*/false);
    if (w.mode == Mode::trigger) arm(w);
    return;
  }
  w.peakSome = std::max(w.peakSome, some->avg10);
  if (full) w.peakFull = std::max(w.peakFull, full->avg10);
  if (triggered) return;
  const std::int64_t quietNs = out_.clock().monotonicNs() - w.lastTriggerMonoNs;
  const bool quiet = w.mode == Mode::polling ||
                     quietNs >= static_cast<std::int64_t>(config_.triggerWindowUs) * 1000;
  if (quiet && some->avg10 < config_.clearAvg10Percent) {
    w.raised = false;
    emit(w, false, *some, full, /*atStart=*/false);
  }
}

void PsiSource::emit(Watch& w, bool raised, const parse::PsiSample& some,
                     const std::optional<parse::PsiSample>& full, bool atStart) {
  EventBatch batch;
  // A raised event is the episode's start: its time is the episode's raisedNs.
  auto p = batch.add(raised ? w.raisedNs : out_.clock().nowNs()).getPayload().initPressure();
  p.setResource(schemaResource(w.resource));
  p.setState(raised ? schema::Pressure::State::RAISED : schema::Pressure::State::CLEARED);
  p.setSomeAvg10(some.avg10);
  if (full) p.setFullAvg10(full->avg10);
  p.setAtStart(atStart);
  if (!raised) {
    p.setRaisedNs(w.raisedNs);
    p.setPeakSomeAvg10(w.peakSome);
    p.setPeakFullAvg10(w.peakFull);
  }
  if (w.mode == Mode::trigger) {
    p.setStallUs(config_.triggerStallUs);
    p.setWindowUs(config_.triggerWindowUs);
    p.setThreshold(100.0 * static_cast<double>(config_.triggerStallUs) /
                   static_cast<double>(config_.triggerWindowUs));
  } else {
    p.setThreshold(config_.someAvg10Percent);
  }
  out_.publish(batch);
}

}  // namespace octolaunch::sources
