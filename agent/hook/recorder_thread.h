// Runs a HookRecorder on a thread of its own, so that passing the command's output through never
// waits for redaction or a spool commit.
//
// Contract
//  * push() hands over a chunk of one stream (in read order); it blocks only while more than
//    maxQueuedBytes are waiting (back-pressure instead of unbounded memory). Once the recorder
//    failed (its sink refused a flush: nothing more will be recorded), push() takes nothing:
//    the output passes through without being queued.
//  * Pending events are flushed to the sink when flushEvents are pending or flushInterval after
//    the oldest pending chunk arrived, whichever comes first.
//  * The worker runs at normal priority on purpose: a recorder that keeps up recycles the
//    chunk buffers; a lagging one makes the pool fault in fresh memory for the backlog (in the
//    background, chunk_pool.h), which costs the command more than sharing the CPU does
//    (measured).
//  * finish() records the outcome, waits until everything is in the sink and stops the thread.
// Threads: push() and finish() from one thread (the I/O loop); the recorder is touched only by the
// worker thread until finish() returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/hook/child_runner.h"
#include "agent/hook/hook_recorder.h"

namespace octolaunch::agent {

class RecorderThread final {
 public:
  // recorder: not owned, must outlive this object.
  // recorder, pool: not owned, must outlive this object.
  RecorderThread(HookRecorder& recorder, ChunkPool& pool, std::chrono::milliseconds flushInterval,
                 std::size_t maxQueuedBytes);
  RecorderThread(const RecorderThread&) = delete;
  RecorderThread& operator=(const RecorderThread&) = delete;
  ~RecorderThread();  // finish()es with no outcome if finish() was not called

  // Takes chunk.data (no copy; released to the pool once recorded) and leaves null in its place;
  // leaves the chunk with the caller once the recorder failed.
  void push(HookStream stream, OutputChunk& chunk, std::int64_t timeNs);
  void finish(const HookOutcome& outcome);

 private:
  struct Chunk {
    HookStream stream;
    char* data;  // from pool_
    std::size_t size;
    std::int64_t timeNs;
  };
  void run();
  void stop(std::optional<HookOutcome> outcome);

  HookRecorder& recorder_;
  ChunkPool& pool_;
  std::chrono::milliseconds flushInterval_;
  std::size_t maxQueuedBytes_;
  std::mutex mutex_;
  std::condition_variable wake_;     // worker: work or stop
  std::condition_variable drained_;  // producer: queue has room
  std::vector<Chunk> queue_;
  std::size_t queuedBytes_ = 0;
  bool stopping_ = false;
  bool recorderFailed_ = false;  // set by the worker once recorder_.failed()
  std::optional<HookOutcome> outcome_;
  std::thread thread_;  // started on first use, after any fork()
};

}  // namespace octolaunch::agent
