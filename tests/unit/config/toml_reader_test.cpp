// The reading helper itself: typed reads, unknown keys with the nearest known one, the rule.
#include "shared/config/toml_reader.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

namespace octolaunch::config {
namespace {

std::vector<std::string> textsOf(const ConfigReport& report) {
  return report.settle(Strictness::lenient);
}

TEST(TomlReader, NearestKeyIsATypoAwayOrNothing) {
  const std::vector<std::string> keys{"http", "threads", "listen", "max_body_bytes", "log"};
  EXPECT_EQ(nearestKey("htpp", keys), "http");  // a swap counts one
  EXPECT_EQ(nearestKey("treads", keys), "threads");
  EXPECT_EQ(nearestKey("max_body_byte", keys), "max_body_bytes");
  EXPECT_EQ(nearestKey("foo", keys), std::nullopt);
  EXPECT_EQ(nearestKey("completely_else", keys), std::nullopt);
}

TEST(TomlReader, TypedReadsKeepTheDefaultOnAProblemAndNameFileLineAndKey) {
  ConfigReport report;
  const toml::table doc = toml::parse(R"([http]
threads = "four"
timeout_ms = 0
listen = "127.0.0.1:1"
ratio = 0.5
names = ["a", 2]
)",
                                      std::string_view("c.toml"));
  std::uint32_t threads = 8;
  std::uint32_t timeout = 5;
  std::string listen;
  double ratio = 0;
  std::vector<std::string> names{"default"};
  {
    TableReader root(doc, report);
    TableReader http = root.section("http");
    EXPECT_FALSE(http.read("threads", threads, 1, 256));
    EXPECT_FALSE(http.read("timeout_ms", timeout, 1, 1000));
    EXPECT_TRUE(http.read("listen", listen));
    EXPECT_TRUE(http.read("ratio", ratio, 0.0, 1.0));
    EXPECT_FALSE(http.read("names", names));
  }
  EXPECT_EQ(threads, 8u);
  EXPECT_EQ(timeout, 5u);
  EXPECT_EQ(listen, "127.0.0.1:1");
  EXPECT_EQ(ratio, 0.5);
  EXPECT_EQ(names, std::vector<std::string>{"default"});
  EXPECT_EQ(textsOf(report), (std::vector<std::string>{
                                 "c.toml:2: http.threads: expected an integer, got a string",
                                 "c.toml:3: http.timeout_ms: must be between 1 and 1000, got 0",
                                 "c.toml:6: http.names[1]: expected a string, got an integer",
                             }));
}

TEST(TomlReader, UnreadKeysAndSectionsAreUnknownWithTheNearestKnownKey) {
  ConfigReport report;
  const toml::table doc = toml::parse("owned = 1\n[htpp]\nthreads = 1\n[log]\nlevle = \"x\"\n",
                                      std::string_view("c.toml"));
  {
    TableReader root(doc, report);
    root.known({"owned"});
    root.section("http");
    std::string level;
    root.section("log").read("level", level);
  }
  EXPECT_EQ(textsOf(report), (std::vector<std::string>{
                                 "c.toml:2: htpp: unknown section; did you mean [http]?",
                                 "c.toml:5: log.levle: unknown key; did you mean `level`?",
                             }));
}

TEST(TomlReader, ATopSectionLeavesTheTopLevelToItsOwner) {
  ConfigReport report;
  const toml::table doc =
      toml::parse("agent_id = \"x\"\n[mine]\nkey = 1\n", std::string_view("a.toml"));
  {
    TableReader mine = TableReader::topSection(doc, "mine", report);
    std::int64_t key = 0;
    mine.read("key", key, 0, 10);
    EXPECT_EQ(key, 1);
  }
  EXPECT_TRUE(report.issues().empty()) << textsOf(report).front();
  EXPECT_EQ(report.askedKeys(), (std::set<std::string>{"mine", "mine.key"}));
}

TEST(TomlReader, StrictThrowsEveryIssueInLineOrderLenientReturnsThem) {
  ConfigReport report;
  EXPECT_NO_THROW(report.settle(Strictness::strict));
  report.add({.file = "a.toml", .line = 9, .key = "b", .message = "second"});
  report.add({.file = "a.toml", .line = 2, .key = "a", .message = "first"});
  try {
    report.settle(Strictness::strict);
    FAIL() << "strict settle must throw";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 2u);
    EXPECT_EQ(std::string(e.what()), "a.toml:2: a: first\na.toml:9: b: second");
  }
  EXPECT_EQ(report.settle(Strictness::lenient),
            (std::vector<std::string>{"a.toml:2: a: first", "a.toml:9: b: second"}));
}

TEST(TomlReader, MissingDefaultFileIsNoProblemMissingExplicitFileIsOne) {
  const auto missing = std::filesystem::temp_directory_path() / "octolaunch-no-such-file.toml";
  ConfigReport report;
  EXPECT_FALSE(readTomlFile(missing, false, report));
  EXPECT_TRUE(report.issues().empty());
  EXPECT_FALSE(readTomlFile(missing, true, report));
  EXPECT_EQ(textsOf(report), std::vector<std::string>{missing.string() + ": no such config file"});
}

TEST(TomlReader, SyntaxErrorNamesTheLine) {
  ConfigReport report;
  EXPECT_FALSE(parseToml("[a]\nb = 1\nc = \n", "s.toml", report));
  ASSERT_EQ(report.issues().size(), 1u);
  EXPECT_EQ(report.issues()[0].line, 3u);
  EXPECT_EQ(report.issues()[0].text().rfind("s.toml:3: ", 0), 0u);
}

}  // namespace
}  // namespace octolaunch::config
