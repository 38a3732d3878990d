// Fixed-size buffers for the command's output on its way from read() to the recorder, carved
// from slabs (pre-faulted; transparent huge pages where the kernel allows) and reused until the
// pool goes. The first slab is small, so that the command's first output does not wait for
// megabytes to be faulted in; each further slab doubles, up to maxSlabBytes.
//
// A recorder lagging far behind a fast command makes the pool grow by as much as the backlog, and
// faulting in fresh memory is the costly part (about 2 ms per MiB on a small VM). So that this
// cost does not fall on the thread passing the command's output through, a thread of the pool
// adds the next slab in the background once fewer than kReserveChunks are free; acquire() adds
// one itself only when none is free.
//
// Threads: acquire() and release() from any thread. The background thread starts on the first
// acquire() that finds the reserve low (so after any fork() that happens before output flows)
// and stops in the destructor.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace octolaunch::agent {

class ChunkPool final {
 public:
  static constexpr std::size_t kChunkBytes = 64 * 1024;
  static constexpr std::size_t kFirstSlabBytes = 16 * kChunkBytes;  // 1 MiB
  static constexpr std::size_t kReserveChunks = 64;                 // 4 MiB

  explicit ChunkPool(std::size_t maxSlabBytes = std::size_t{8} << 20);
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  // A buffer of kChunkBytes. Throws std::bad_alloc when no memory can be had.
  char* acquire();
  void release(char* chunk);
  // Chunks ready to be acquired without mapping a slab (for tests and figures).
  std::size_t freeChunks();

 private:
  struct Slab {
    char* base;
    std::size_t bytes;
  };
  // Maps and faults in a slab of `bytes`, without the mutex; throws std::bad_alloc.
  static Slab mapSlab(std::size_t bytes);
  void addSlab(Slab slab);  // with mutex_ held
  void growInBackground();  // the background thread

  std::size_t maxSlabBytes_;
  std::size_t nextSlabBytes_;
  std::mutex mutex_;
  std::condition_variable growWanted_;
  bool growing_ = false;  // the background thread maps a slab (or is asked to)
  bool stopping_ = false;
  std::vector<char*> free_;
  std::vector<Slab> slabs_;
  std::thread grower_;
};

}  // namespace octolaunch::agent
