#include "collector/cli/exit_code.h"

#include <gtest/gtest.h>

#include <set>

namespace octolaunch::cli {
namespace {

TEST(ExitCode, EachOutcomeHasItsOwnNumber) {
  const std::set<int> codes = {
      static_cast<int>(ExitCode::ok),         static_cast<int>(ExitCode::checkFound),
      static_cast<int>(ExitCode::usage),      static_cast<int>(ExitCode::unreachable),
      static_cast<int>(ExitCode::notFound),   static_cast<int>(ExitCode::notAuthorised),
      static_cast<int>(ExitCode::serverError)};
  EXPECT_EQ(codes, (std::set<int>{0, 1, 2, 3, 4, 5, 6}));
  // What scripts written against the earlier CLI relied on keeps its number.
  EXPECT_EQ(static_cast<int>(ExitCode::checkFound), 1);  // drift found
  EXPECT_EQ(static_cast<int>(ExitCode::usage), 2);
  EXPECT_EQ(static_cast<int>(ExitCode::unreachable), 3);
}

TEST(ExitCode, HttpStatusesMapByKind) {
  EXPECT_EQ(exitCodeForStatus(404), ExitCode::notFound);
  EXPECT_EQ(exitCodeForStatus(401), ExitCode::notAuthorised);
  EXPECT_EQ(exitCodeForStatus(403), ExitCode::notAuthorised);
  for (int status : {400, 405, 408, 409, 413, 422, 429}) {
    EXPECT_EQ(exitCodeForStatus(status), ExitCode::usage) << status;
  }
  for (int status : {500, 502, 503, 504, 507}) {
    EXPECT_EQ(exitCodeForStatus(status), ExitCode::serverError) << status;
  }
  // Not an answer the API gives (a redirect from a proxy, say): the server side's fault.
  EXPECT_EQ(exitCodeForStatus(302), ExitCode::serverError);
}

TEST(ExitCode, HelpTextNamesEveryCode) {
  const std::string table = exitCodeTable();
  for (const char* line :
       {"  0  ok", "  1  the check found", "  2  usage", "  3  collector unreachable",
        "  4  not found", "  5  not authorised", "  6  server error"}) {
    EXPECT_NE(table.find(line), std::string::npos) << line;
  }
  EXPECT_EQ(exitCodeSummary(""),
            "Exit codes: 0 ok, 2 usage, 3 collector unreachable, 4 not found, 5 not authorised "
            "(401/403), 6 server error (5xx).");
  EXPECT_NE(exitCodeSummary("drift found").find("0 ok, 1 drift found, 2 usage"), std::string::npos);
}

}  // namespace
}  // namespace octolaunch::cli
