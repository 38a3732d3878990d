// WriteSerializer that runs writes on the store's writer thread (kj::Executor::executeSync of
// IngestServer::writer()), so the collector keeps one LMDB writer. run() from any thread but the
// writer's own (there it would wait on itself).
#pragma once

#include <kj/async.h>

#include "collector/store/write_serializer.h"

namespace octolaunch::ingest {

class KjWriteSerializer final : public WriteSerializer {
 public:
  // executor: the store writer's (IngestServer::writer()); must outlive every run().
  explicit KjWriteSerializer(const kj::Executor& executor) : executor_(executor) {}
  // Rethrows what write threw; std::runtime_error when the loop has stopped.
  void run(const std::function<void()>& write) override;

 private:
  const kj::Executor& executor_;
};

}  // namespace octolaunch::ingest
