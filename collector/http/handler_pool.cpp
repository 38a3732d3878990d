#include "collector/http/handler_pool.h"

namespace octolaunch::http {

HandlerPool::HandlerPool(const Router& router, unsigned threads) : router_(router) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

HandlerPool::~HandlerPool() {
  std::deque<Job> discarded;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    discarded.swap(queue_);
  }
  ready_.notify_all();
  for (std::thread& t : threads_) t.join();
}

kj::Promise<httplib::Response> HandlerPool::dispatch(httplib::Request request) {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<httplib::Response>();
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Job{std::move(request), kj::mv(paf.fulfiller)});
  }
  ready_.notify_one();
  return kj::mv(paf.promise);
}

void HandlerPool::work() {
  for (;;) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    httplib::Response response;
    router_.dispatch(job.request, response);  // never throws
    job.done->fulfill(std::move(response));
  }
}

}  // namespace octolaunch::http
