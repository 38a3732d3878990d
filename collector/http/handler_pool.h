// Runs the router on a fixed set of threads, so a slow handler (analysis of a large release, a
// write waiting for the writer thread) never stops the HTTP event loop from reading, timing out
// and answering other connections.
//
// Contract
//  * Construct, call dispatch() and destroy on one KJ event-loop thread (the HTTP server's).
//  * dispatch() queues a complete request; the returned promise resolves on that loop with the
//    response the router wrote. Dropping the promise (a closed connection) is allowed at any time:
//    the handler still runs to completion if it has started and its response is discarded.
//  * Handlers run on the pool's threads, several at once (Router's thread contract).
//  * The destructor discards queued requests and waits for running handlers; the event loop must
//    outlive the pool.
#pragma once

#include <httplib.h>
#include <kj/async.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "collector/http/router.h"

namespace octolaunch::http {

class HandlerPool final {
 public:
  // router must outlive the pool; threads >= 1.
  HandlerPool(const Router& router, unsigned threads);
  ~HandlerPool();
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  kj::Promise<httplib::Response> dispatch(httplib::Request request);

 private:
  struct Job {
    httplib::Request request;
    kj::Own<kj::CrossThreadPromiseFulfiller<httplib::Response>> done;
  };
  void work();

  const Router& router_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;  // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace octolaunch::http
