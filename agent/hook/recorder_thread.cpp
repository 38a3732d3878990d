#include "agent/hook/recorder_thread.h"

#include <sys/resource.h>
#include <algorithm>
#include <cstring>
#include <unistd.h>

namespace octolaunch::agent {

namespace {
constexpr int kRecorderNice = 10;
}

RecorderThread::RecorderThread(HookRecorder& recorder, std::chrono::milliseconds flushInterval,
                               std::size_t maxQueuedBytes)
    : recorder_(recorder), flushInterval_(flushInterval), maxQueuedBytes_(maxQueuedBytes) {}

RecorderThread::~RecorderThread() { stop(std::nullopt); }

void RecorderThread::push(HookStream stream, OutputChunk& chunk, std::int64_t timeNs) {
  std::unique_lock lock(mutex_);
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
  drained_.wait(lock, [&] { return queuedBytes_ < maxQueuedBytes_; });
  bool wasEmpty = queue_.empty();
  queuedBytes_ += chunk.size;
  queue_.push_back(Chunk{stream, std::move(chunk.data), chunk.size, timeNs});
  chunk.size = 0;
  if (!spare_.empty()) {
    chunk.data = std::move(spare_.back());
    spare_.pop_back();
  }
  if (wasEmpty) wake_.notify_one();
}

void RecorderThread::push(HookStream stream, std::string_view bytes, std::int64_t timeNs) {
  while (!bytes.empty()) {
    OutputChunk chunk;
    chunk.data.reset(new char[OutputChunk::kCapacity]);
    chunk.size = std::min(bytes.size(), OutputChunk::kCapacity);
    std::memcpy(chunk.data.get(), bytes.data(), chunk.size);
    bytes.remove_prefix(chunk.size);
    push(stream, chunk, timeNs);
  }
}

void RecorderThread::finish(const HookOutcome& outcome) { stop(outcome); }

void RecorderThread::stop(std::optional<HookOutcome> outcome) {
  {
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    outcome_ = std::move(outcome);
    if (!thread_.joinable()) {
      lock.unlock();
      // Nothing was ever pushed: record the outcome on this thread.
      if (outcome_) recorder_.finish(*outcome_);
      return;
    }
    wake_.notify_one();
  }
  thread_.join();
}

void RecorderThread::run() {
  // Below the deploy's own processes: when the CPU is short, the command runs first and the
  // recording catches up from the queue (and, detached, after the command is done).
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kRecorderNice);
  using Clock = std::chrono::steady_clock;
  std::vector<Chunk> work;
  Clock::time_point oldest{};
  bool pending = false;  // events wait in the recorder since `oldest`
  for (;;) {
    bool stop = false;
    {
      std::unique_lock lock(mutex_);
      if (queue_.empty() && !stopping_) {
        if (pending) {
          wake_.wait_until(lock, oldest + flushInterval_,
                           [&] { return !queue_.empty() || stopping_; });
        } else {
          wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        }
      }
      work.swap(queue_);
      queuedBytes_ = 0;
      stop = stopping_ && work.empty();
    }
    drained_.notify_all();
    if (!work.empty() && !pending) {
      oldest = Clock::now();
      pending = true;
    }
    for (const Chunk& c : work) recorder_.feed(c.stream, std::string_view(c.data.get(), c.size), c.timeNs);
    if (!work.empty()) {
      std::lock_guard lock(mutex_);
      for (Chunk& c : work) {
        if (spare_.size() < 64) spare_.push_back(std::move(c.data));
      }
    }
    work.clear();
    if (recorder_.pendingEvents() == 0) pending = false;
    if (stop) break;
    if (pending && Clock::now() >= oldest + flushInterval_) {
      recorder_.flush();
      pending = false;
    }
  }
  if (outcome_) {
    recorder_.finish(*outcome_);
  } else {
    recorder_.flush();
  }
}

}  // namespace octolaunch::agent
