#include "agent/hook/chunk_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <system_error>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14
#endif

namespace octolaunch::agent {

ChunkPool::ChunkPool(std::size_t maxSlabBytes)
    : maxSlabBytes_(std::max(kChunkBytes, maxSlabBytes / kChunkBytes * kChunkBytes)),
      nextSlabBytes_(std::min(kFirstSlabBytes, maxSlabBytes_)) {}

ChunkPool::~ChunkPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  growWanted_.notify_one();
  if (grower_.joinable()) grower_.join();
  for (const Slab& slab : slabs_) ::munmap(slab.base, slab.bytes);
}

ChunkPool::Slab ChunkPool::mapSlab(std::size_t bytes) {
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  // Best effort, in this order: huge pages, then fault everything in with one call.
  ::madvise(base, bytes, MADV_HUGEPAGE);
  ::madvise(base, bytes, MADV_POPULATE_WRITE);
  return Slab{static_cast<char*>(base), bytes};
}

void ChunkPool::addSlab(Slab slab) {
  slabs_.push_back(slab);
  nextSlabBytes_ = std::min(slab.bytes * 2, maxSlabBytes_);
  for (std::size_t off = slab.bytes; off >= kChunkBytes; off -= kChunkBytes) {
    free_.push_back(slab.base + off - kChunkBytes);
  }
}

char* ChunkPool::acquire() {
  std::unique_lock lock(mutex_);
  if (free_.empty()) {
    const std::size_t bytes = nextSlabBytes_;
    lock.unlock();
    const Slab slab = mapSlab(bytes);
    lock.lock();
    addSlab(slab);
  }
  char* chunk = free_.back();
  free_.pop_back();
  if (free_.size() < kReserveChunks && !growing_ && !stopping_) {
    growing_ = true;
    if (!grower_.joinable()) {
      try {
        grower_ = std::thread([this] { growInBackground(); });
      } catch (const std::system_error&) {
        growing_ = false;  // no thread: acquire() grows the pool itself when it runs dry
        return chunk;
      }
    }
    growWanted_.notify_one();
  }
  return chunk;
}

void ChunkPool::release(char* chunk) {
  if (chunk == nullptr) return;
  std::lock_guard lock(mutex_);
  free_.push_back(chunk);
}

std::size_t ChunkPool::freeChunks() {
  std::lock_guard lock(mutex_);
  return free_.size();
}

void ChunkPool::growInBackground() {
  std::unique_lock lock(mutex_);
  for (;;) {
    growWanted_.wait(lock, [this] { return growing_ || stopping_; });
    if (stopping_) return;
    const std::size_t bytes = nextSlabBytes_;
    lock.unlock();
    Slab slab{nullptr, 0};
    try {
      slab = mapSlab(bytes);
    } catch (const std::bad_alloc&) {
      // Left to acquire(), which reports it to its caller.
    }
    lock.lock();
    if (slab.base != nullptr) addSlab(slab);
    growing_ = false;
  }
}

}  // namespace octolaunch::agent
