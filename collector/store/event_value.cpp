#include "collector/store/event_value.h"

#include <zstd.h>

#include "collector/store/event_store.h"

namespace octolaunch {

namespace {
// Level 1: the writer thread compresses every block it commits; the fastest level keeps the
// store's commit rate, and hook output (repetitive text) still shrinks several times.
constexpr int kLevel = 1;
}  // namespace

struct EventValueCodec::Contexts {
  ZSTD_CCtx* compress = ZSTD_createCCtx();
  ZSTD_DCtx* decompress = ZSTD_createDCtx();
  ~Contexts() {
    ZSTD_freeCCtx(compress);
    ZSTD_freeDCtx(decompress);
  }
};

EventValueCodec::EventValueCodec() : contexts_(std::make_unique<Contexts>()) {
  if (contexts_->compress == nullptr || contexts_->decompress == nullptr) throw std::bad_alloc();
}

EventValueCodec::~EventValueCodec() = default;

std::string_view EventValueCodec::encode(std::string_view packed) {
  if (packed.size() < kCompressFromBytes) return packed;
  buffer_.resize(1 + ZSTD_compressBound(packed.size()));
  buffer_[0] = kZstdTag;
  const std::size_t n = ZSTD_compressCCtx(contexts_->compress, buffer_.data() + 1,
                                          buffer_.size() - 1, packed.data(), packed.size(), kLevel);
  if (ZSTD_isError(n) || 1 + n >= packed.size()) return packed;  // incompressible: as it is
  buffer_.resize(1 + n);
  return buffer_;
}

std::string_view EventValueCodec::decode(std::string_view value) {
  if (value.empty() || value[0] != kZstdTag) return value;
  value.remove_prefix(1);
  const unsigned long long size = ZSTD_getFrameContentSize(value.data(), value.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
      size > kMaxDecodedBytes) {
    throw StoreError(StoreError::Kind::io,
                     "a stored event is damaged: its compressed frame has no valid size");
  }
  buffer_.resize(static_cast<std::size_t>(size));
  const std::size_t n = ZSTD_decompressDCtx(contexts_->decompress, buffer_.data(), buffer_.size(),
                                            value.data(), value.size());
  if (ZSTD_isError(n) || n != size) {
    throw StoreError(StoreError::Kind::io,
                     std::string("a stored event is damaged: ") +
                         (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "it decompresses short"));
  }
  return buffer_;
}

EventValueCodec& EventValueCodec::forThisThread() {
  thread_local EventValueCodec codec;
  return codec;
}

}  // namespace octolaunch
