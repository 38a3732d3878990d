// What `hook` and `deploy` record for a --release, --service or --phase the collector would refuse.
#include "agent/hook/recordable_identifier.h"

#include <gtest/gtest.h>

#include "collector/ingest/batch_validator.h"
#include "shared/event/identifier.h"
#include "shared/util/utf8.h"

namespace octolaunch::agent {
namespace {

TEST(RecordableIdentifier, AFineValueIsUnchanged) {
  for (const std::string& fine : {std::string(), std::string("r42"), std::string("caf\xc3\xa9"),
                                  std::string(kMaxIdentifierBytes, 'x')}) {
    const auto id = recordableIdentifier(fine);
    EXPECT_EQ(id.value, fine);
    EXPECT_FALSE(id.escaped);
    EXPECT_FALSE(id.truncated);
  }
}

TEST(RecordableIdentifier, OverTheLimitIsCutWithTheMarkerWithinTheLimit) {
  const auto id = recordableIdentifier(std::string(kMaxIdentifierBytes + 1, 'x'));
  EXPECT_TRUE(id.truncated);
  EXPECT_FALSE(id.escaped);
  EXPECT_EQ(id.value, std::string(kMaxIdentifierBytes - kTruncatedMarker.size(), 'x') +
                          std::string(kTruncatedMarker));
  EXPECT_EQ(ingest::checkIdentifier("release", id.value, false), std::nullopt);
}

TEST(RecordableIdentifier, TheCutFallsOnACharacterBoundary) {
  // Every offset of a 4-byte character against the cut.
  for (std::size_t pad = 0; pad < 4; ++pad) {
    std::string raw(pad, 'a');
    while (raw.size() < 400) raw += "\xf0\x9f\x9a\x80";  // U+1F680
    const auto id = recordableIdentifier(raw);
    EXPECT_TRUE(id.truncated);
    EXPECT_LE(id.value.size(), kMaxIdentifierBytes);
    EXPECT_GT(id.value.size(), kMaxIdentifierBytes - 4) << "cut more than one character";
    EXPECT_TRUE(isValidUtf8(id.value)) << pad;
    const std::string kept = id.value.substr(0, id.value.size() - kTruncatedMarker.size());
    EXPECT_EQ(kept, raw.substr(0, kept.size()));
  }
}

TEST(RecordableIdentifier, InvalidBytesAndNulAreEscapedVisibly) {
  const auto id = recordableIdentifier(std::string("api\xff\xc3(x\0y", 9));
  EXPECT_TRUE(id.escaped);
  EXPECT_FALSE(id.truncated);
  EXPECT_EQ(id.value, "api\\xff\\xc3(x\\x00y");
  EXPECT_EQ(ingest::checkIdentifier("service", id.value, false), std::nullopt);
}

TEST(RecordableIdentifier, EscapingThatGrowsPastTheLimitIsCutToo) {
  const auto id = recordableIdentifier(std::string(100, '\xff'));  // 400 bytes once escaped
  EXPECT_TRUE(id.escaped);
  EXPECT_TRUE(id.truncated);
  EXPECT_LE(id.value.size(), kMaxIdentifierBytes);
  EXPECT_TRUE(isValidUtf8(id.value));
  EXPECT_EQ(id.value.find('\0'), std::string::npos);
}

}  // namespace
}  // namespace octolaunch::agent
