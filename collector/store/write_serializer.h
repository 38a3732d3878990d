// Runs store writes on the collector's one writer thread (IngestServer::writer()).
// HTTP handlers (release registration) call run() from their own threads; it returns when the
// write has run, rethrowing what it threw. Implementations: ThreadWriteSerializer (ingest/) for the
// daemon; InlineWriteSerializer for tests and tools with a single thread.
#pragma once

#include <functional>
#include <stdexcept>

namespace octolaunch {

class WriteSerializer {
 public:
  virtual ~WriteSerializer() = default;
  // Throws std::runtime_error when the writer thread has stopped (shutdown).
  virtual void run(const std::function<void()>& write) = 0;
};

// Runs the write on the calling thread. Correct wherever no other thread writes.
class InlineWriteSerializer final : public WriteSerializer {
 public:
  void run(const std::function<void()>& write) override { write(); }
};

}  // namespace octolaunch
