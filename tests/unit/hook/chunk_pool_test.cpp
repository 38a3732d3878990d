#include "agent/hook/chunk_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <vector>

#include "tests/support/wait.h"

namespace octolaunch::agent {
namespace {

using testing::waitUntil;

TEST(ChunkPool, ChunksOfManySlabsAreDistinctAndKeepWhatWasWritten) {
  ChunkPool pool(std::size_t{2} << 20);
  // More than several slabs' worth (1 MiB, then 2 MiB each), some from the background thread.
  constexpr std::size_t kCount = 200;
  std::vector<char*> chunks;
  for (std::size_t i = 0; i < kCount; ++i) {
    char* c = pool.acquire();
    std::memset(c, static_cast<int>(i & 0xFF), ChunkPool::kChunkBytes);
    chunks.push_back(c);
  }
  for (std::size_t i = 0; i < kCount; ++i) {
    const char want = static_cast<char>(i & 0xFF);
    ASSERT_EQ(chunks[i][0], want) << i;
    ASSERT_EQ(chunks[i][ChunkPool::kChunkBytes - 1], want) << i;
  }
  std::vector<char*> sorted = chunks;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    ASSERT_GE(static_cast<std::size_t>(sorted[i] - sorted[i - 1]), ChunkPool::kChunkBytes);
  }
  for (char* c : chunks) pool.release(c);
  EXPECT_GE(pool.freeChunks(), kCount);
}

TEST(ChunkPool, RefillsItsReserveInTheBackground) {
  ChunkPool pool;
  // The first acquire() maps the small first slab itself, leaving fewer than the reserve free;
  // the next slab (twice as large) then arrives without another acquire().
  char* first = pool.acquire();
  const std::size_t firstSlabLeft = ChunkPool::kFirstSlabBytes / ChunkPool::kChunkBytes - 1;
  ASSERT_TRUE(
      waitUntil([&] { return pool.freeChunks() >= firstSlabLeft + 2 * (firstSlabLeft + 1); },
                std::chrono::seconds(10)))
      << pool.freeChunks() << " free";
  pool.release(first);
}

TEST(ChunkPool, ReleasingNullIsANoOp) {
  ChunkPool pool;
  pool.release(nullptr);
  EXPECT_EQ(pool.freeChunks(), 0u);
}

}  // namespace
}  // namespace octolaunch::agent
