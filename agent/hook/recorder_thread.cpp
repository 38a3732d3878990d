#include "agent/hook/recorder_thread.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace octolaunch::agent {

namespace {
constexpr std::int64_t kJoinWindowNs = 10'000'000;
constexpr std::size_t kWakeChunks = 16;
constexpr std::chrono::milliseconds kGatherInterval{10};
}  // namespace

RecorderThread::RecorderThread(HookRecorder& recorder, ChunkPool& pool,
                               std::chrono::milliseconds flushInterval, std::size_t maxQueuedBytes)
    : recorder_(recorder),
      pool_(pool),
      flushInterval_(flushInterval),
      maxQueuedBytes_(maxQueuedBytes) {}

RecorderThread::~RecorderThread() { stop(std::nullopt); }

void RecorderThread::push(HookStream stream, OutputChunk& chunk, std::int64_t timeNs) {
  std::unique_lock lock(mutex_);
  if (recorderFailed_) return;
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
  // A small read joins the waiting chunk of the same stream when it fits and is recent (its
  // lines then carry that chunk's time, at most kJoinWindowNs early): memory is bounded by
  // chunks, and a command writing 4 KiB at a time must not cost 64 KiB per write.
  if (!queue_.empty()) {
    Chunk& tail = queue_.back();
    if (tail.stream == stream && tail.size + chunk.size <= ChunkPool::kChunkBytes &&
        timeNs - tail.timeNs <= kJoinWindowNs) {
      std::memcpy(tail.data + tail.size, chunk.data, chunk.size);
      tail.size += chunk.size;
      chunk.size = 0;
      return;  // the caller reads into the same buffer again
    }
  }
  drained_.wait(lock, [&] { return queuedBytes_ < maxQueuedBytes_; });
  bool wasEmpty = queue_.empty();
  queuedBytes_ += ChunkPool::kChunkBytes;  // memory held, whatever the fill
  queue_.push_back(Chunk{stream, chunk.data, chunk.size, timeNs});
  chunk.data = nullptr;
  chunk.size = 0;
  if (wasEmpty || queue_.size() == kWakeChunks) wake_.notify_one();
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
  using Clock = std::chrono::steady_clock;
  std::vector<Chunk> work;
  Clock::time_point oldest{};
  bool pending = false;  // events wait in the recorder since `oldest`
  for (;;) {
    bool stop = false;
    {
      std::unique_lock lock(mutex_);
      if (!stopping_) {
        // Idle: sleep until the first chunk. Then let chunks gather for a moment (or until
        // kWakeChunks are there): one wake-up per gathering, not one per read.
        if (queue_.empty() && !pending)
          wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        auto deadline = Clock::now() + kGatherInterval;
        if (pending) deadline = std::min(deadline, oldest + flushInterval_);
        wake_.wait_until(lock, deadline, [&] { return queue_.size() >= kWakeChunks || stopping_; });
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
    for (const Chunk& c : work) {
      recorder_.feed(c.stream, std::string_view(c.data, c.size), c.timeNs);
      pool_.release(c.data);
    }
    work.clear();
    if (recorder_.pendingEvents() == 0) pending = false;
    if (stop) break;
    if (pending && Clock::now() >= oldest + flushInterval_) {
      recorder_.flush();
      pending = false;
    }
    if (recorder_.failed()) {
      std::lock_guard lock(mutex_);
      recorderFailed_ = true;
    }
  }
  if (outcome_) {
    recorder_.finish(*outcome_);
  } else {
    recorder_.flush();
  }
}

}  // namespace octolaunch::agent
