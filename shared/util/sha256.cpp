#include "shared/util/sha256.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace octolaunch {

namespace {

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
constexpr std::array<std::uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// Section 5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8
// primes.
constexpr std::array<std::uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

std::uint32_t loadBigEndian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

void storeBigEndian32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

Sha256::Sha256() : state_(kInitialState) {}

void Sha256::compress(const std::uint8_t* block) {
  // Message schedule (section 6.2.2 step 1), kept as a 16-word ring.
  std::array<std::uint32_t, 16> w;
  for (int t = 0; t < 16; ++t) w[t] = loadBigEndian32(block + 4 * t);

  std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3];
  std::uint32_t e = state_[4], f = state_[5], g = state_[6], h = state_[7];
  for (int t = 0; t < 64; ++t) {
    if (t >= 16) {
      const std::uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      const std::uint32_t s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3);
      const std::uint32_t s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10);
      w[t & 15] += s0 + w[(t - 7) & 15] + s1;
    }
    const std::uint32_t sum1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const std::uint32_t choose = (e & f) ^ (~e & g);
    const std::uint32_t t1 = h + sum1 + choose + kRound[t] + w[t & 15];
    const std::uint32_t sum0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = sum0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
  state_[5] += f;
  state_[6] += g;
  state_[7] += h;
}

void Sha256::update(const void* data, std::size_t size) {
  assert(!finished_);
  const auto* in = static_cast<const std::uint8_t*>(data);
  totalBytes_ += size;
  if (pendingSize_ > 0) {
    const std::size_t take = std::min(size, kBlockSize - pendingSize_);
    std::memcpy(pending_.data() + pendingSize_, in, take);
    pendingSize_ += take;
    in += take;
    size -= take;
    if (pendingSize_ < kBlockSize) return;
    compress(pending_.data());
    pendingSize_ = 0;
  }
  for (; size >= kBlockSize; in += kBlockSize, size -= kBlockSize) compress(in);
  if (size > 0) {
    std::memcpy(pending_.data(), in, size);
    pendingSize_ = size;
  }
}

Sha256::Digest Sha256::finish() {
  assert(!finished_);
  // Padding (section 5.1.1): a 1 bit, zeros up to 56 mod 64, then the length in bits, big-endian.
  const std::uint64_t bits = totalBytes_ * 8;
  pending_[pendingSize_++] = 0x80;
  if (pendingSize_ > kBlockSize - 8) {
    std::memset(pending_.data() + pendingSize_, 0, kBlockSize - pendingSize_);
    compress(pending_.data());
    pendingSize_ = 0;
  }
  std::memset(pending_.data() + pendingSize_, 0, kBlockSize - 8 - pendingSize_);
  storeBigEndian32(pending_.data() + 56, static_cast<std::uint32_t>(bits >> 32));
  storeBigEndian32(pending_.data() + 60, static_cast<std::uint32_t>(bits));
  compress(pending_.data());
  finished_ = true;

  Digest out;
  for (int i = 0; i < 8; ++i) storeBigEndian32(out.data() + 4 * i, state_[i]);
  return out;
}

Sha256::Digest Sha256::of(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.finish();
}

HmacSha256::HmacSha256(std::string_view key) {
  std::array<std::uint8_t, Sha256::kBlockSize> block{};
  if (key.size() > block.size()) {
    const Sha256::Digest hashed = Sha256::of(key);
    std::memcpy(block.data(), hashed.data(), hashed.size());
  } else {
    std::memcpy(block.data(), key.data(), key.size());
  }
  std::array<std::uint8_t, Sha256::kBlockSize> innerPad;
  for (std::size_t i = 0; i < block.size(); ++i) {
    innerPad[i] = block[i] ^ 0x36;
    outerPad_[i] = block[i] ^ 0x5c;
  }
  inner_.update(innerPad.data(), innerPad.size());
}

Sha256::Digest HmacSha256::finish() {
  const Sha256::Digest innerDigest = inner_.finish();
  Sha256 outer;
  outer.update(outerPad_.data(), outerPad_.size());
  outer.update(innerDigest.data(), innerDigest.size());
  return outer.finish();
}

std::string toHex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

}  // namespace octolaunch
