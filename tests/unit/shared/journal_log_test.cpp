// Journald priorities on stderr lines: the prefix per level and when stderr is the journal.
#include "shared/log/journal_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace octolaunch::log {
namespace {

std::string formatted(bool journal, spdlog::level::level_enum level, const std::string& text) {
  spdlog::details::log_msg msg(spdlog::source_loc{}, "test", level, text);
  spdlog::memory_buf_t out;
  stderrFormatter(journal)->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(JournalLog, PrioritiesFollowSdDaemon) {
  EXPECT_EQ(journalPriority(spdlog::level::critical), 2);
  EXPECT_EQ(journalPriority(spdlog::level::err), 3);
  EXPECT_EQ(journalPriority(spdlog::level::warn), 4);
  EXPECT_EQ(journalPriority(spdlog::level::info), 6);
  EXPECT_EQ(journalPriority(spdlog::level::debug), 7);
  EXPECT_EQ(journalPriority(spdlog::level::trace), 7);
}

TEST(JournalLog, JournalLinesStartWithThePriorityAndCarryNoTime) {
  EXPECT_EQ(formatted(true, spdlog::level::err, "disk gone"), "<3>error: disk gone\n");
  EXPECT_EQ(formatted(true, spdlog::level::warn, "slow"), "<4>warning: slow\n");
  EXPECT_EQ(formatted(true, spdlog::level::info, "up"), "<6>info: up\n");
  EXPECT_EQ(formatted(true, spdlog::level::debug, "x"), "<7>debug: x\n");
}

TEST(JournalLog, PlainLinesHaveTheTimeAndNoPrefix) {
  const std::string line = formatted(false, spdlog::level::warn, "slow");
  EXPECT_NE(line.front(), '<');
  // "2026-12-07T01:02:03.456 warning: slow\n"
  ASSERT_EQ(line.size(), 23 + std::string(" warning: slow\n").size()) << line;
  EXPECT_EQ(line[4], '-');
  EXPECT_EQ(line[10], 'T');
  EXPECT_EQ(line.substr(23), " warning: slow\n");
}

class JournalStream : public ::testing::Test {
 protected:
  void SetUp() override {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    file_ = f;
    struct stat st {};
    ASSERT_EQ(::fstat(fileno(f), &st), 0);
    devIno_ = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  }
  void TearDown() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  int fd() const { return fileno(file_); }

  std::FILE* file_ = nullptr;
  std::string devIno_;
};

TEST_F(JournalStream, MatchesOnlyTheFileItNames) {
  EXPECT_TRUE(isJournalStream(devIno_.c_str(), fd()));
  std::FILE* other = std::tmpfile();
  ASSERT_NE(other, nullptr);
  // Inherited by a child whose stderr went elsewhere: not the journal.
  EXPECT_FALSE(isJournalStream(devIno_.c_str(), fileno(other)));
  std::fclose(other);
}

TEST_F(JournalStream, UnsetOrMalformedValuesAreNotTheJournal) {
  EXPECT_FALSE(isJournalStream(nullptr, fd()));
  EXPECT_FALSE(isJournalStream("", fd()));
  EXPECT_FALSE(isJournalStream("1", fd()));
  EXPECT_FALSE(isJournalStream(":", fd()));
  EXPECT_FALSE(isJournalStream((devIno_ + "x").c_str(), fd()));
  EXPECT_FALSE(isJournalStream((" " + devIno_).c_str(), fd()));
  EXPECT_FALSE(isJournalStream((devIno_ + ":1").c_str(), fd()));
}

TEST_F(JournalStream, AClosedDescriptorIsNotTheJournal) {
  const int dup = ::dup(fd());
  ASSERT_GE(dup, 0);
  ::close(dup);
  EXPECT_FALSE(isJournalStream(devIno_.c_str(), dup));
}

}  // namespace
}  // namespace octolaunch::log
