// An EventSink for tests: keeps a copy of every appended event; thread-safe; waitFor() blocks
// until a condition over the events holds or a deadline passes (no sleeping for luck).
#pragma once

#include "shared/event/event_json.h"
#include "shared/event/event_sink.h"

#include <capnp/message.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace octolaunch::testing {

class FakeSink final : public EventSink {
 public:
  std::size_t append(std::span<const schema::Event::Reader> events) override {
    std::lock_guard lock(mutex_);
    for (auto event : events) {
      auto message = std::make_unique<capnp::MallocMessageBuilder>();
      message->setRoot(event);
      json_.push_back(eventJson(message->getRoot<schema::Event>().asReader()));
      messages_.push_back(std::move(message));
    }
    cv_.notify_all();
    return events.size();
  }

  std::vector<nlohmann::json> events() const {
    std::lock_guard lock(mutex_);
    return json_;
  }

  bool waitFor(const std::function<bool(const std::vector<nlohmann::json>&)>& ready,
               std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return ready(json_); });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages_;
  std::vector<nlohmann::json> json_;
};

}  // namespace octolaunch::testing
