// EventSinks for tests of the agent's sources and services. FakeSink keeps copies of every appended
// event and lets the test wait, with a deadline, until the events it expects have arrived.
// Thread-safe (sources append on their io thread, the test reads on its own).
#pragma once

#include <capnp/message.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "shared/event/event_json.h"
#include "shared/event/event_sink.h"

namespace octolaunch::testing {

class FakeSink final : public EventSink {
 public:
  std::size_t append(std::span<const schema::Event::Reader> events) override {
    std::lock_guard lock(mutex_);
    for (auto event : events) {
      auto message = std::make_unique<capnp::MallocMessageBuilder>();
      message->setRoot(event);
      auto json = eventJson(message->getRoot<schema::Event>().asReader());
      json_.push_back(std::move(json));
      messages_.push_back(std::move(message));
    }
    ++appends_;
    changed_.notify_all();
    return events.size();
  }

  // The events so far, as the API prints them ({"kind", "data": {...}, ...}).
  std::vector<nlohmann::json> events() const {
    std::lock_guard lock(mutex_);
    return json_;
  }
  std::vector<nlohmann::json> eventsOfKind(const std::string& kind) const {
    std::vector<nlohmann::json> out;
    for (auto& e : events()) {
      if (e.value("kind", "") == kind) out.push_back(e);
    }
    return out;
  }
  std::size_t appends() const {
    std::lock_guard lock(mutex_);
    return appends_;
  }

  // Waits until pred(events) holds or the timeout passes; returns pred's last value.
  bool waitFor(const std::function<bool(const std::vector<nlohmann::json>&)>& pred,
               std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return pred(json_); });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::unique_ptr<capnp::MallocMessageBuilder>> messages_;
  std::vector<nlohmann::json> json_;
  std::size_t appends_ = 0;
};

// A spool that refuses appends (as a full disk or map makes it) while `refuse` is set; otherwise
// appends go to inner.
class RefusingSink final : public EventSink {
 public:
  explicit RefusingSink(FakeSink& inner) : inner_(inner) {}
  std::size_t append(std::span<const schema::Event::Reader> events) override {
    if (refuse) {
      ++refused;
      throw std::runtime_error(
          "storing events: mdb_put: MDB_MAP_FULL: Environment mapsize limit reached");
    }
    return inner_.append(events);
  }
  std::atomic<bool> refuse{true};
  std::atomic<int> refused{0};

 private:
  FakeSink& inner_;
};

}  // namespace octolaunch::testing
