// WriteSerializer that runs writes on the store's writer thread (IngestServer::writer()), so the
// collector keeps one LMDB writer. run() from any thread; from the writer itself it runs inline.
#pragma once

#include "collector/ingest/worker_thread.h"
#include "collector/store/write_serializer.h"

namespace octolaunch::ingest {

class ThreadWriteSerializer final : public WriteSerializer {
 public:
  // writer must outlive every run().
  explicit ThreadWriteSerializer(WorkerThread& writer) : writer_(writer) {}
  // Rethrows what write threw.
  void run(const std::function<void()>& write) override { writer_.runSync(write); }

 private:
  WorkerThread& writer_;
};

}  // namespace octolaunch::ingest
