// How an event is written as a value of the store's `events` database (docs/ingest-blocks.md):
// its packed Cap'n Proto message, or, when that is large and compresses, the byte kZstdTag
// followed by the zstd frame of the packed message. A packed message never starts with
// kZstdTag (that would be a first segment of size zero), so values written before compression
// existed read unchanged.
//
// Contract
//  * encode() returns the value to store for packed bytes; decode() returns the packed bytes of a
//    value. Both return views into the codec's own buffers (or into the argument): valid until the
//    next call on the same codec.
//  * decode() throws StoreError{kind = io} for a compressed value that does not decompress or
//    would exceed kMaxDecodedBytes (a damaged store), naming what is wrong.
// Threads: one codec per thread (the writer keeps one; readers take a thread_local one).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace octolaunch {

inline constexpr char kZstdTag = '\x01';
inline constexpr std::size_t kCompressFromBytes = 512;      // smaller values are stored as they are
inline constexpr std::size_t kMaxDecodedBytes = 64u << 20;  // an RPC message's limit

class EventValueCodec {
 public:
  EventValueCodec();
  ~EventValueCodec();
  EventValueCodec(const EventValueCodec&) = delete;
  EventValueCodec& operator=(const EventValueCodec&) = delete;

  std::string_view encode(std::string_view packed);
  std::string_view decode(std::string_view value);

  // The codec of the calling thread, for readers.
  static EventValueCodec& forThisThread();

 private:
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
  std::string buffer_;
};

}  // namespace octolaunch
