#include "agent/sources/event_out.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <span>
#include <utility>

namespace octolaunch::sources {

namespace {
// Source events are small; a 1 KiB first segment avoids the 8 KiB default per event.
constexpr unsigned kFirstSegmentWords = 128;
}  // namespace

schema::Event::Builder EventBatch::add(std::int64_t timeNs) {
  auto& message = messages_.emplace_back(std::make_unique<capnp::MallocMessageBuilder>(kFirstSegmentWords));
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

EventOut::EventOut(EventSink& sink, const Clock& clock, std::function<void()> wake)
    : sink_(sink), clock_(clock), wake_(std::move(wake)) {}

bool EventOut::publish(EventBatch& batch) {
  if (batch.empty()) return true;
  auto events = batch.readers();
  try {
    const std::size_t accepted = sink_.append(std::span<const schema::Event::Reader>(events));
    published_ += accepted;
  } catch (const std::exception& e) {
    ++failures_;
    spdlog::error("sources: could not append {} event(s) to the spool: {}", events.size(), e.what());
    return false;
  }
  batch = EventBatch();
  if (wake_) wake_();
  return true;
}

}  // namespace octolaunch::sources
