#include "collector/ingest/worker_thread.h"

#include <pthread.h>

namespace octolaunch::ingest {

WorkerThread::WorkerThread(std::string name) {
  thread_ = std::thread([this, name = std::move(name)]() {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    serve();
  });
}

WorkerThread::~WorkerThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void WorkerThread::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  changed_.notify_all();
}

void WorkerThread::runSync(const std::function<void()>& fn) {
  if (std::this_thread::get_id() == thread_.get_id()) {
    fn();
    return;
  }
  std::mutex doneMutex;
  std::condition_variable doneChanged;
  bool done = false;
  std::exception_ptr error;
  post([&]() {
    std::exception_ptr failure;
    try {
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
    std::lock_guard lock(doneMutex);
    error = failure;
    done = true;
    doneChanged.notify_all();  // under the lock: the caller's locals outlive this call
  });
  std::unique_lock lock(doneMutex);
  doneChanged.wait(lock, [&]() { return done; });
  if (error) std::rethrow_exception(error);
}

void WorkerThread::waitIdle() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&]() { return jobs_.empty() && !running_; });
}

void WorkerThread::serve() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&]() { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and everything posted has run
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    running_ = true;
    lock.unlock();
    job();  // jobs catch what they throw (runOn, runSync); a stray one ends the process
    job = nullptr;
    lock.lock();
    running_ = false;
    changed_.notify_all();  // waitIdle()
  }
}

}  // namespace octolaunch::ingest
