// A thread with a KJ event loop of its own that runs the work other threads send it. The ingest
// server keeps one as the store's writer (every write transaction of the event store runs there:
// grouped ingest commits, and what the WriteSerializer hands it: release registration, purge,
// retention) and a few to encode pushes, so that checking, encoding and committing overlap.
//
// Contract
//  * executor() accepts work from any thread (kj::Executor::executeAsync / executeSync); the
//    work runs on this thread, one item at a time, in the order each requesting thread sent it.
//  * The destructor stops the loop and joins the thread. Work still queued is not run: its
//    requester sees DISCONNECTED (kj). Destroy it only after every requester is done.
//  * Never call executeSync() on executor() from work running on this thread: it would wait on
//    itself.
#pragma once

#include <kj/async.h>

#include <string>
#include <thread>

namespace octolaunch::ingest {

class WorkerThread {
 public:
  // name: the thread's name as ps and perf show it (at most 15 bytes).
  explicit WorkerThread(std::string name);  // returns once the thread's loop accepts work
  ~WorkerThread();
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  const kj::Executor& executor() const { return *executor_; }

 private:
  const kj::Executor* executor_ = nullptr;
  kj::CrossThreadPromiseFulfiller<void>* stop_ = nullptr;  // owned by the thread
  std::thread thread_;
};

}  // namespace octolaunch::ingest
