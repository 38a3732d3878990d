// SHA-256 and HMAC-SHA256 against the published test vectors (FIPS 180-4 examples as given in the
// NIST "Cryptographic Standards and Guidelines" example values, RFC 4231 for HMAC) and against
// OpenSSL's implementation on random inputs, split at random points.
#include "shared/util/sha256.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>
#include <string>

namespace octolaunch {
namespace {

std::string sha256Hex(std::string_view data) { return toHex(Sha256::of(data)); }

std::string hmacHex(std::string_view key, std::string_view data) {
  HmacSha256 hmac(key);
  hmac.update(data);
  return toHex(hmac.finish());
}

std::string fromHex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(Sha256, FipsExampleMessages) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 448 bits: the padding needs a second block.
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
                      "nopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionAsFedInOddPieces) {
  Sha256 hash;
  const std::string piece(997, 'a');
  std::size_t left = 1'000'000;
  while (left > 0) {
    const std::size_t n = std::min(left, piece.size());
    hash.update(piece.data(), n);
    left -= n;
  }
  EXPECT_EQ(toHex(hash.finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HmacSha256, Rfc4231TestCases) {
  // Case 1: 20-byte key of 0x0b.
  EXPECT_EQ(hmacHex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Case 2: key shorter than the output.
  EXPECT_EQ(hmacHex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Case 3: 20 bytes of 0xaa, 50 bytes of 0xdd.
  EXPECT_EQ(hmacHex(std::string(20, '\xaa'), std::string(50, '\xdd')),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Case 4: key 0x01..0x19, 50 bytes of 0xcd.
  EXPECT_EQ(hmacHex(fromHex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                    std::string(50, '\xcd')),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Case 6: a 131-byte key, longer than the block, is hashed first.
  EXPECT_EQ(
      hmacHex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Case 7: long key and long data.
  EXPECT_EQ(
      hmacHex(
          std::string(131, '\xaa'),
          "This is a test using a larger than block-size key and a larger than block-size data. "
          "The key needs to be hashed before being used by the HMAC algorithm."),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(Sha256, MatchesOpenSslOnRandomInputsSplitAnywhere) {
  std::mt19937_64 random(20261128);
  for (int round = 0; round < 500; ++round) {
    std::string data(random() % 1200, '\0');
    for (char& c : data) c = static_cast<char>(random());
    std::string key(random() % 150, '\0');
    for (char& c : key) c = static_cast<char>(random());
    const std::size_t split = data.empty() ? 0 : random() % (data.size() + 1);

    Sha256 hash;
    hash.update(data.data(), split);
    hash.update(data.data() + split, data.size() - split);
    HmacSha256 hmac(key);
    hmac.update(data.data(), split);
    hmac.update(data.data() + split, data.size() - split);

    unsigned char expected[EVP_MAX_MD_SIZE];
    unsigned length = 0;
    ASSERT_EQ(EVP_Digest(data.data(), data.size(), expected, &length, EVP_sha256(), nullptr), 1);
    EXPECT_EQ(toHex(hash.finish()), toHex(expected, length))
        << "length " << data.size() << " split " << split;
    ASSERT_NE(
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), expected, &length),
        nullptr);
    EXPECT_EQ(toHex(hmac.finish()), toHex(expected, length))
        << "key " << key.size() << " data " << data.size();
  }
}

}  // namespace
}  // namespace octolaunch
