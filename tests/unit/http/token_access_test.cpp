#include "collector/http/token_access.h"

#include <gtest/gtest.h>

namespace octolaunch::http {
namespace {

TEST(TokenAccess, ConstantTimeEqualComparesEveryByte) {
  const Sha256::Digest a = Sha256::of("reader-0123456789");
  Sha256::Digest b = a;
  EXPECT_TRUE(constantTimeEqual(a, b));
  for (std::size_t i : {std::size_t{0}, std::size_t{15}, a.size() - 1}) {
    b = a;
    b[i] ^= 0x01;
    EXPECT_FALSE(constantTimeEqual(a, b)) << "byte " << i;
  }
  EXPECT_FALSE(constantTimeEqual(a, Sha256::of("reader-0123456780")));
}

TEST(TokenAccess, ScopesImplyTheLowerOnes) {
  const TokenAccess access({{"reader-0123456789", Scope::read},
                            {"writer-0123456789", Scope::write},
                            {"admin-0123456789x", Scope::admin}});
  struct Case {
    const char* authorization;
    Scope needed;
    Access expected;
  };
  const Case cases[] = {
      {"", Scope::open, Access::allowed},
      {"", Scope::read, Access::unauthenticated},
      {"Basic cmVhZGVy", Scope::read, Access::unauthenticated},
      {"Bearer ", Scope::read, Access::unauthenticated},
      {"Bearer reader-01234567", Scope::read, Access::unauthenticated},
      {"Bearer reader-0123456789", Scope::read, Access::allowed},
      {"bearer reader-0123456789", Scope::read, Access::allowed},
      {"Bearer reader-0123456789", Scope::write, Access::forbidden},
      {"Bearer writer-0123456789", Scope::read, Access::allowed},
      {"Bearer writer-0123456789", Scope::write, Access::allowed},
      {"Bearer writer-0123456789", Scope::admin, Access::forbidden},
      {"Bearer admin-0123456789x", Scope::admin, Access::allowed},
      {"Bearer admin-0123456789x", Scope::write, Access::allowed},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(access.check(c.authorization, c.needed), c.expected)
        << c.authorization << " for " << scopeName(c.needed);
  }
}

TEST(TokenAccess, WithoutTokensEverythingIsAllowed) {
  const TokenAccess none;
  EXPECT_FALSE(none.enabled());
  EXPECT_EQ(none.check("", Scope::admin), Access::allowed);
}

}  // namespace
}  // namespace octolaunch::http
