#include "agent/hook/chunk_pool.h"

#include <sys/mman.h>

#include <new>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace octolaunch::agent {

ChunkPool::ChunkPool(std::size_t slabBytes)
    : slabBytes_(slabBytes < kChunkBytes ? kChunkBytes : slabBytes / kChunkBytes * kChunkBytes) {}

ChunkPool::~ChunkPool() {
  for (void* slab : slabs_) ::munmap(slab, slabBytes_);
}

void ChunkPool::addSlab() {
  void* slab =
      ::mmap(nullptr, slabBytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (slab == MAP_FAILED) throw std::bad_alloc();
  // Best effort, in this order: huge pages, then fault everything in with one call.
  ::madvise(slab, slabBytes_, MADV_HUGEPAGE);
  ::madvise(slab, slabBytes_, MADV_POPULATE_WRITE);
  slabs_.push_back(slab);
  char* base = static_cast<char*>(slab);
  for (std::size_t off = slabBytes_; off >= kChunkBytes; off -= kChunkBytes) {
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
