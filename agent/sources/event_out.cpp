#include "agent/sources/event_out.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <span>
#include <utility>

namespace octolaunch::sources {

namespace {
// Source events are small; a 1 KiB first segment avoids the 8 KiB default per event.
constexpr unsigned kFirstSegmentWords = 128;
}  // namespace

schema::Event::Builder EventBatch::add(std::int64_t timeNs) {
  auto& message =
      messages_.emplace_back(std::make_unique<capnp::MallocMessageBuilder>(kFirstSegmentWords));
  auto event = message->initRoot<schema::Event>();
  event.setTimeNs(timeNs);
  return event;
}

std::vector<schema::Event::Reader> EventBatch::readers() {
  std::vector<schema::Event::Reader> out;
  out.reserve(messages_.size());
  for (auto& message : messages_) out.push_back(message->getRoot<schema::Event>().asReader());
  return out;
}

void EventBatch::append(EventBatch&& other) {
  if (messages_.empty()) {
    messages_ = std::move(other.messages_);
  } else {
    for (auto& m : other.messages_) messages_.push_back(std::move(m));
  }
  other.messages_.clear();
}

void EventBatch::keepIf(const std::function<bool(schema::Event::Reader)>& keep) {
  std::erase_if(messages_,
                [&](const auto& m) { return !keep(m->template getRoot<schema::Event>()); });
}

void EventBatch::dropOldest(std::size_t n) {
  n = std::min(n, messages_.size());
  messages_.erase(messages_.begin(), messages_.begin() + static_cast<std::ptrdiff_t>(n));
}

EventOut::EventOut(EventSink& sink, const Clock& clock, std::function<void()> onHold,
                   const ServiceMap* services)
    : sink_(sink), clock_(clock), onHold_(std::move(onHold)), services_(services) {}

bool EventOut::publish(EventBatch& batch) {
  if (!scope_.empty() && !batch.empty()) {
    std::size_t before = batch.size();
    batch.keepIf([&](schema::Event::Reader e) { return scope_.admits(e); });
    outOfScope_ += before - batch.size();
  }
  if (services_ != nullptr && !services_->empty())
    batch.forEach([this](schema::Event::Builder event) { services_->tag(event); });
  held_.append(std::move(batch));
  if (held_.empty()) return true;
  auto events = held_.readers();
  try {
    published_ += sink_.append(std::span<const schema::Event::Reader>(events));
  } catch (const std::exception& e) {
    if (failures_++ == 0) {
      spdlog::error(
          "sources: could not append {} event(s) to the spool: {}; holding them, retrying every "
          "second",
          events.size(), e.what());
    }
    if (held_.size() > kMaxHeld) {
      const std::size_t excess = held_.size() - kMaxHeld;
      held_.dropOldest(excess);
      dropped_ += excess;
      spdlog::error(
          "sources: the spool has refused events for a while: dropped the {} oldest held event(s) "
          "({} dropped in all)",
          excess, dropped_);
    }
    if (onHold_) onHold_();
    return false;
  }
  if (failures_ > 0)
    spdlog::info("sources: the spool accepts events again ({} held event(s) appended)",
                 events.size());
  failures_ = 0;
  held_ = EventBatch();
  return true;
}

}  // namespace octolaunch::sources
