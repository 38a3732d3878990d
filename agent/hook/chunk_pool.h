// Fixed-size buffers for the command's output on its way from read() to the recorder, carved
// from slabs (pre-faulted; transparent huge pages where the kernel allows) and reused until the
// pool goes. The first slab is small, so that the command's first output does not wait for
// megabytes to be faulted in; each further slab doubles, up to maxSlabBytes. A recorder lagging
// far behind a fast command then costs a few slab allocations instead of a page fault per 4 KiB
// of output.
//
// Threads: acquire() and release() from any thread.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

namespace octolaunch::agent {

class ChunkPool final {
 public:
  static constexpr std::size_t kChunkBytes = 64 * 1024;

  static constexpr std::size_t kFirstSlabBytes = 16 * kChunkBytes;  // 1 MiB

  explicit ChunkPool(std::size_t maxSlabBytes = std::size_t{8} << 20);
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  // A buffer of kChunkBytes. Throws std::bad_alloc when no memory can be had.
  char* acquire();
  void release(char* chunk);

 private:
  void addSlab();  // with mutex_ held
  std::size_t maxSlabBytes_;
  std::size_t nextSlabBytes_;
  std::mutex mutex_;
  std::vector<char*> free_;
  struct Slab {
    void* base;
    std::size_t bytes;
  };
  std::vector<Slab> slabs_;
};

}  // namespace octolaunch::agent
