#include "agent/hook/hook_recorder.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "agent/hook/chunk_pool.h"
#include "agent/hook/recorder_thread.h"
#include "agent/hook/utf8_escape.h"
#include "shared/event/hook_block.h"
#include "tests/support/wait.h"

namespace octolaunch::agent {
namespace {

using schema::Event;

struct Line {
  HookStream stream;
  std::uint32_t lineNo;
  std::string text;
};

// Keeps copies of what it is given.
class CollectingSink final : public EventSink {
 public:
  std::size_t append(std::span<const Event::Reader> events) override {
    ++calls;
    if (failing) throw std::runtime_error("disk on fire");
    for (auto event : events) {
      if (event.getPayload().isHookBlock()) {
        ++blocks;
        auto lines = event.getPayload().getHookBlock().getLines();
        blockSizes.push_back(lines.size());
        EXPECT_EQ(std::string(event.getPayload().getHookBlock().getPhase().cStr()), "migrate");
        for (auto line : lines) EXPECT_LE(line.getAfterNs(), kMaxBlockSpanNs);
      }
      lines_.forEachLine(event, 0, [&](std::uint32_t, Event::Reader e) {
        take(e);
        return true;
      });
    }
    return events.size();
  }
  void take(Event::Reader e) {
    {
      if (e.getPayload().isHookOutput()) {
        auto o = e.getPayload().getHookOutput();
        lines.push_back({o.getStream() == schema::HookOutput::Stream::STDOUT ? HookStream::out
                                                                             : HookStream::err,
                         o.getLineNo(), o.getLine().cStr()});
        EXPECT_EQ(std::string(e.getRelease().cStr()), "r7");
        EXPECT_EQ(std::string(o.getPhase().cStr()), "migrate");
      } else if (e.getPayload().isHookExit()) {
        auto x = e.getPayload().getHookExit();
        exitCommand = x.getCommand().cStr();
        exitCode = x.isExitCode() ? x.getExitCode() : -1000 - x.getSignal();
        for (auto t : x.getTail()) tail.push_back(t.cStr());
        stdoutLines = x.getStdoutLines();
        stderrLines = x.getStderrLines();
        ++exits;
      }
    }
  }
  BlockLines lines_;
  int blocks = 0;
  std::vector<std::uint32_t> blockSizes;
  bool failing = false;
  int calls = 0;
  int exits = 0;
  std::vector<Line> lines;
  std::string exitCommand;
  int exitCode = 0;
  std::vector<std::string> tail;
  std::uint32_t stdoutLines = 0;
  std::uint32_t stderrLines = 0;
};

struct Fixture {
  explicit Fixture(HookLimits limits = {})
      : recorder(sink, redactor, {"r7", "api", "migrate"}, limits,
                 [this](const std::string& w) { warnings.push_back(w); }) {}
  CollectingSink sink;
  Redactor redactor;
  std::vector<std::string> warnings;
  HookRecorder recorder;
  std::unique_ptr<RecorderThread> recorderThread;  // when a test runs the recorder on one
};

HookOutcome exited(int code) {
  HookOutcome o;
  o.command = "./migrate.sh --password hunter2";
  o.exitCode = code;
  return o;
}

// Lines travel in hook.block records, cut at the bounds the collector holds them to: at most
// kMaxBlockLines lines, kMaxBlockBytes, a span of kMaxBlockSpanNs, and never back in time.
TEST(HookRecorder, LinesTravelInBoundedBlocks) {
  Fixture f({.maxLineBytes = 150'000, .flushEvents = 100'000});
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "x\n";
  f.recorder.feed(HookStream::out, many, 1'000);
  f.recorder.feed(HookStream::out, "late\n", 1'000 + kMaxBlockSpanNs + 1);
  f.recorder.feed(HookStream::err, "clock stepped back\n", 500);
  f.recorder.feed(HookStream::out,
                  std::string(100'000, 'y') + "\n" + std::string(100'000, 'z') + "\n",
                  2'000'000'000);
  f.recorder.finish(exited(0));
  EXPECT_EQ(f.sink.blockSizes,
            (std::vector<std::uint32_t>{kMaxBlockLines, 5000 - kMaxBlockLines, 1, 1, 1, 1}));
  ASSERT_EQ(f.sink.lines.size(), 5004u);
  EXPECT_EQ(f.sink.lines[5001].text, "clock stepped back");
  EXPECT_EQ(f.sink.exits, 1);
}

TEST(HookRecorder, LinesAcrossChunksNumberedPerStream) {
  Fixture f;
  f.recorder.feed(HookStream::out, "one\ntw", 1);
  f.recorder.feed(HookStream::err, "e1\n", 2);
  f.recorder.feed(HookStream::out, "o\nthree\r\n", 3);
  f.recorder.feed(HookStream::out, "no newline", 4);
  f.recorder.finish(exited(3));
  ASSERT_EQ(f.sink.lines.size(), 5u);
  EXPECT_EQ(f.sink.lines[0].text, "one");
  EXPECT_EQ(f.sink.lines[1].text, "e1");
  EXPECT_EQ(f.sink.lines[1].lineNo, 1u);
  EXPECT_EQ(f.sink.lines[2].text, "two");
  EXPECT_EQ(f.sink.lines[2].lineNo, 2u);
  EXPECT_EQ(f.sink.lines[3].text, "three");  // CR of CRLF dropped
  EXPECT_EQ(f.sink.lines[4].text, "no newline");
  EXPECT_EQ(f.sink.lines[4].lineNo, 4u);
  EXPECT_EQ(f.sink.exits, 1);
  EXPECT_EQ(f.sink.exitCode, 3);
  EXPECT_EQ(f.sink.exitCommand, "./migrate.sh --password ***");
  EXPECT_EQ(f.sink.stdoutLines, 4u);
  EXPECT_EQ(f.sink.stderrLines, 1u);
  EXPECT_EQ(f.sink.tail, (std::vector<std::string>{"one", "e1", "two", "three", "no newline"}));
}

TEST(HookRecorder, LongLinesAreSplitNotDropped) {
  HookLimits limits;
  limits.maxLineBytes = 100;
  Fixture f(limits);
  std::string longLine(250, 'a');
  // Arrives in small chunks without a newline for a while: memory stays bounded.
  for (std::size_t i = 0; i < longLine.size(); i += 7)
    f.recorder.feed(HookStream::out, std::string_view(longLine).substr(i, 7), 1);
  f.recorder.feed(HookStream::out, "\nnext\n", 2);
  f.recorder.finish(exited(0));
  ASSERT_EQ(f.sink.lines.size(), 4u);
  std::string joined;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(f.sink.lines[i].lineNo, 1u);
    EXPECT_LE(f.sink.lines[i].text.size(), 100u);
    joined += f.sink.lines[i].text;
  }
  EXPECT_EQ(joined, longLine);
  EXPECT_EQ(f.sink.lines[3].text, "next");
  EXPECT_EQ(f.sink.lines[3].lineNo, 2u);
  EXPECT_EQ(f.sink.stdoutLines, 2u);
}

TEST(HookRecorder, SplitsBetweenCharacters) {
  HookLimits limits;
  limits.maxLineBytes = 16;
  Fixture f(limits);
  std::string s;
  for (int i = 0; i < 10; ++i) s += "\xc3\xa9";  // é, 2 bytes each
  s = "x" + s + "\n";                            // odd offset: a naive cut would split a char
  f.recorder.feed(HookStream::out, s, 1);
  f.recorder.finish(exited(0));
  std::string joined;
  for (const auto& l : f.sink.lines) {
    EXPECT_EQ(l.text.find("\\x"), std::string::npos) << l.text;
    joined += l.text;
  }
  EXPECT_EQ(joined + "\n", s);
}

TEST(HookRecorder, ASecretWhereALongLineIsSplitIsStillMasked) {
  HookLimits limits;
  limits.maxLineBytes = 100;
  Fixture f(limits);
  // The GitHub token begins 6 bytes before the 100-byte cut: split first, each piece would hold
  // part of it and neither part would look like a token.
  const std::string token = "ghp_" + std::string(36, 'Z');
  f.recorder.feed(HookStream::out, std::string(94, '.') + token + " done\n", 1);
  // The same token in a line that arrives without its end for a while: cut at the space before it.
  std::string unterminated = "cloning" + std::string(72, '-') + " " + token + " into /srv/app";
  for (std::size_t i = 0; i < unterminated.size(); i += 5)
    f.recorder.feed(HookStream::out, std::string_view(unterminated).substr(i, 5), 2);
  f.recorder.feed(HookStream::out, "\n", 3);
  f.recorder.finish(exited(0));
  std::string first, second;
  for (const auto& l : f.sink.lines) {
    EXPECT_LE(l.text.size(), 100u);
    (l.lineNo == 1 ? first : second) += l.text;
  }
  EXPECT_EQ(first, std::string(94, '.') + "*** done");
  EXPECT_EQ(second, "cloning" + std::string(72, '-') + " *** into /srv/app");
}

TEST(HookRecorder, RedactsEachLineAndPemAcrossLines) {
  Fixture f;
  f.recorder.feed(
      HookStream::out,
      "PGPASSWORD=hunter2\n-----BEGIN PRIVATE KEY-----\nMC4CAQAw\n-----END PRIVATE KEY-----\nok\n",
      1);
  f.recorder.finish(exited(0));
  ASSERT_EQ(f.sink.lines.size(), 5u);
  EXPECT_EQ(f.sink.lines[0].text, "PGPASSWORD=***");
  EXPECT_EQ(f.sink.lines[2].text, "***");
  EXPECT_EQ(f.sink.lines[4].text, "ok");
}

TEST(HookRecorder, SinkFailureWarnsOnceAndStopsRecording) {
  HookLimits limits;
  limits.flushEvents = 1;
  Fixture f(limits);
  f.sink.failing = true;
  f.recorder.feed(HookStream::out, "a\nb\nc\n", 1);
  f.recorder.finish(exited(1));
  EXPECT_EQ(f.warnings.size(), 1u);
  EXPECT_EQ(f.sink.calls, 1);
  EXPECT_TRUE(f.recorder.failed());
}

// A wrapper that cannot record (no daemon, no queue) must not go on queueing the command's
// output: that would cost memory up to the queue's bound for nothing.
TEST(RecorderThread, TakesNoMoreChunksOnceTheSinkFailed) {
  HookLimits limits;
  limits.flushEvents = 1;
  ChunkPool pool;  // outlives the recorder thread, which releases into it
  Fixture f(limits);
  f.sink.failing = true;
  std::int64_t timeNs = 0;
  // One line in a fresh chunk, a second later than the last (so it never joins a queued one);
  // true when push() left it with the caller.
  auto pushLeftIt = [&] {
    OutputChunk chunk{pool.acquire(), 2};
    std::memcpy(chunk.data, "a\n", 2);
    timeNs += 1'000'000'000;
    f.recorderThread->push(HookStream::out, chunk, timeNs);
    const bool left = chunk.data != nullptr && chunk.size == 2;
    pool.release(chunk.data);
    return left;
  };
  f.recorderThread =
      std::make_unique<RecorderThread>(f.recorder, pool, std::chrono::milliseconds(1), 1 << 20);
  EXPECT_FALSE(pushLeftIt());  // taken while the sink has not failed yet
  EXPECT_TRUE(testing::waitUntil(pushLeftIt, std::chrono::seconds(10)));
  f.recorderThread->finish(exited(1));
  EXPECT_EQ(f.warnings.size(), 1u);
}

TEST(Utf8Escape, ValidTextUnchangedInvalidBytesEscaped) {
  auto esc = [](std::string_view s) {
    std::string out;
    appendEscapedUtf8(out, s);
    return out;
  };
  EXPECT_EQ(esc("plain ascii"), "plain ascii");
  EXPECT_EQ(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80");
  EXPECT_EQ(esc(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(esc("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(esc("\xc3"), "\\xc3");                             // truncated sequence
  EXPECT_EQ(esc("\xc0\xaf"), "\\xc0\\xaf");                    // overlong
  EXPECT_EQ(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate
  EXPECT_EQ(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
  EXPECT_EQ(esc("latin1 \xe9t\xe9"), "latin1 \\xe9t\\xe9");
}

}  // namespace
}  // namespace octolaunch::agent
