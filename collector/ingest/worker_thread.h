// A thread that runs the work other threads post to it, one job at a time, in the order posted.
// The ingest server keeps one as the store's writer (every write transaction of the event store
// runs there: grouped ingest commits, and what the WriteSerializer hands it: release
// registration, purge, retention) and a few to encode pushes, so that checking, encoding and
// committing overlap.
//
// The handoffs are std::mutex/condition_variable, which ThreadSanitizer sees (KJ's executor
// synchronises inside Debian's uninstrumented libkj, so TSan would report every handoff). runOn()
// brings a result back to a KJ event loop: the value crosses under a mutex, and a cross-thread
// fulfiller only wakes the loop.
//
// Contract
//  * post() and runSync() from any thread; runSync() from the worker itself runs the function
//    inline.
//  * waitIdle() returns once nothing is queued or running (work posted meanwhile included).
//  * The destructor runs what is queued, then joins.
#pragma once

#include <kj/async.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace octolaunch::ingest {

class WorkerThread {
 public:
  // name: the thread's name as ps and perf show it (at most 15 bytes).
  explicit WorkerThread(std::string name);
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  void post(std::function<void()> job);
  // Runs fn on the worker and returns when it has; rethrows what it threw.
  void runSync(const std::function<void()>& fn);
  void waitIdle();

 private:
  void serve();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;
  bool running_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// Runs fn on thread; the promise (on the calling thread's KJ loop) resolves with what fn returned
// or rejects with what it threw. The worker must not reach fn's end after the promise's loop is
// gone: callers waitIdle() before destroying a promise that may still be pending.
template <typename T>
kj::Promise<T> runOn(WorkerThread& thread, std::function<T()> fn) {
  struct Slot {
    std::mutex mutex;
    std::optional<T> value;
    std::exception_ptr error;
  };
  auto slot = std::make_shared<Slot>();
  auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
  kj::CrossThreadPromiseFulfiller<void>* done = paf.fulfiller.get();
  thread.post([slot, fn = std::move(fn), done]() {
    std::optional<T> value;
    std::exception_ptr error;
    try {
      value.emplace(fn());
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(slot->mutex);
      slot->value = std::move(value);
      slot->error = error;
    }
    done->fulfill();
  });
  return paf.promise.attach(kj::mv(paf.fulfiller)).then([slot]() -> T {
    std::lock_guard lock(slot->mutex);
    if (slot->error) std::rethrow_exception(slot->error);
    return std::move(*slot->value);
  });
}

}  // namespace octolaunch::ingest
