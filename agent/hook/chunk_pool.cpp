#include "agent/hook/chunk_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace octolaunch::agent {

ChunkPool::ChunkPool(std::size_t maxSlabBytes)
    : maxSlabBytes_(std::max(kChunkBytes, maxSlabBytes / kChunkBytes * kChunkBytes)),
      nextSlabBytes_(std::min(kFirstSlabBytes, maxSlabBytes_)) {}

ChunkPool::~ChunkPool() {
  for (const Slab& slab : slabs_) ::munmap(slab.base, slab.bytes);
}

void ChunkPool::addSlab() {
  const std::size_t bytes = nextSlabBytes_;
  void* slab = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (slab == MAP_FAILED) throw std::bad_alloc();
  // Best effort, in this order: huge pages, then fault everything in with one call.
  ::madvise(slab, bytes, MADV_HUGEPAGE);
  ::madvise(slab, bytes, MADV_POPULATE_WRITE);
  slabs_.push_back(Slab{slab, bytes});
  nextSlabBytes_ = std::min(bytes * 2, maxSlabBytes_);
  char* base = static_cast<char*>(slab);
  for (std::size_t off = bytes; off >= kChunkBytes; off -= kChunkBytes) {
    free_.push_back(base + off - kChunkBytes);
  }
}

char* ChunkPool::acquire() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) addSlab();
  char* chunk = free_.back();
  free_.pop_back();
  return chunk;
}

void ChunkPool::release(char* chunk) {
  if (chunk == nullptr) return;
  std::lock_guard lock(mutex_);
  free_.push_back(chunk);
}

}  // namespace octolaunch::agent
