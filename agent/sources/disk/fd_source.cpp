#include "agent/sources/disk/fd_source.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

namespace octolaunch::sources {

FdSource::FdSource(asio::io_context& io, EventOut& out, FdConfig config)
    : out_(out),
      config_(std::move(config)),
      timer_(io, std::chrono::milliseconds(config_.intervalMs), [this] { scan(); }),
      state_(config_.usedPercent, config_.clearMarginPercent) {}

bool FdSource::start() {
  std::ifstream in(config_.fileNr);
  if (!in) {
    spdlog::warn("sources: fd: cannot read {}; file handle exhaustion is not watched",
                 config_.fileNr.string());
    return false;
  }
  scan();
  timer_.start();
  return true;
}

void FdSource::stop() { timer_.stop(); }

void FdSource::scan() {
  std::ifstream in(config_.fileNr);
  std::stringstream text;
  text << in.rdbuf();
  const auto nr = parseFileNr(text.str());
  if (!nr || nr->max == 0) return;
  const std::uint64_t used = nr->allocated >= nr->unused ? nr->allocated - nr->unused : 0;
  const double percent = 100.0 * static_cast<double>(used) / static_cast<double>(nr->max);
  const auto t = state_.update(percent);
  const bool atStart = std::exchange(firstScan_, false);
  if (t == Transition::none) return;
  EventBatch batch;
  auto x = batch.add(out_.clock().nowNs()).getPayload().initFdExhausted();
  x.setState(t == Transition::raised ? schema::Pressure::State::RAISED
                                     : schema::Pressure::State::CLEARED);
  x.setUsedPercent(percent);
  x.setFree(nr->max > used ? nr->max - used : 0);
  x.setTotal(nr->max);
  x.setThreshold(config_.usedPercent);
  x.setAtStart(atStart);
  out_.publish(batch);
}

}  // namespace octolaunch::sources
