// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), written here so the agent needs no crypto
// library: libcrypto alone was 1.4 MiB of the agent's idle resident memory, for three hashes.
//
// Contract
//  * Sha256: update() any number of times with any split of the input, then finish() once; the
//    digest equals the one-shot digest of the concatenated input. update()/finish() after
//    finish() are programming errors (asserted in debug builds).
//  * HmacSha256: the same, keyed; keys longer than the 64-byte block are hashed first (RFC 2104).
//  * toHex() gives lower-case hex, two digits per byte.
//  * Portable C++; about 200-400 MB/s on one core, enough for artifact files at deploy time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace octolaunch {

class Sha256 final {
 public:
  static constexpr std::size_t kDigestSize = 32;
  static constexpr std::size_t kBlockSize = 64;
  using Digest = std::array<std::uint8_t, kDigestSize>;

  Sha256();
  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  Digest finish();

  static Digest of(std::string_view data);

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, kBlockSize> pending_{};
  std::size_t pendingSize_ = 0;
  std::uint64_t totalBytes_ = 0;
  bool finished_ = false;
};

class HmacSha256 final {
 public:
  explicit HmacSha256(std::string_view key);
  void update(const void* data, std::size_t size) { inner_.update(data, size); }
  void update(std::string_view data) { inner_.update(data); }
  Sha256::Digest finish();

 private:
  Sha256 inner_;
  std::array<std::uint8_t, Sha256::kBlockSize> outerPad_{};
};

std::string toHex(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string toHex(const std::array<std::uint8_t, N>& bytes) {
  return toHex(bytes.data(), bytes.size());
}

}  // namespace octolaunch
