#include "collector/ingest/worker_thread.h"

#include <pthread.h>

#include <condition_variable>
#include <mutex>

namespace octolaunch::ingest {

WorkerThread::WorkerThread(std::string name) {
  std::mutex mutex;
  std::condition_variable ready;
  bool started = false;
  thread_ = std::thread([&, this, name = std::move(name)]() {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    kj::EventLoop loop;
    kj::WaitScope waitScope(loop);
    auto stop = kj::newPromiseAndCrossThreadFulfiller<void>();
    {
      std::lock_guard lock(mutex);
      executor_ = &kj::getCurrentThreadExecutor();
      stop_ = stop.fulfiller.get();
      started = true;
      ready.notify_one();  // under the lock: the constructor's locals outlive this call
    }
    stop.promise.wait(waitScope);
  });
  std::unique_lock lock(mutex);
  ready.wait(lock, [&]() { return started; });
}

WorkerThread::~WorkerThread() {
  stop_->fulfill();
  thread_.join();
}

}  // namespace octolaunch::ingest
