// WriteSerializer that runs writes on the ingest event-loop thread (kj::Executor::executeSync),
// so the collector keeps one LMDB writer. Construct on the loop thread; run() from any other
// thread (calling it from the loop thread itself would deadlock).
#pragma once

#include <kj/async.h>

#include "collector/store/write_serializer.h"

namespace octolaunch::ingest {

class KjWriteSerializer final : public WriteSerializer {
 public:
  // executor: kj::getCurrentThreadExecutor() of the ingest loop; must outlive every run().
  explicit KjWriteSerializer(const kj::Executor& executor) : executor_(executor) {}
  // Rethrows what write threw; std::runtime_error when the loop has stopped.
  void run(const std::function<void()>& write) override;

 private:
  const kj::Executor& executor_;
};

}  // namespace octolaunch::ingest
