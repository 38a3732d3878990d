// The real octolaunch-agent binary on real commands: exit statuses, byte-identical passthrough,
// what lands in the spool, the grace period, signal forwarding, a missing spool.
#include <capnp/serialize.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/hook/recordable_identifier.h"
#include "agent/spool/spool.h"
#include "collector/ingest/batch_validator.h"
#include "shared/event/hook_block.h"
#include "shared/event/identifier.h"
#include "tests/support/agent_queue.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace octolaunch::agent {
namespace {

using schema::Event;
using Ms = std::chrono::milliseconds;
using testing::TempDir;

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child whose stdout and stderr go to files (no pipe of ours can fill up and block it).
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& dir)
      : out_(dir / "out"), err_(dir / "err") {
    pid_ = fork();
    if (pid_ == 0) {
      int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = ::open("/dev/null", O_RDONLY);
      dup2(o, 1);
      dup2(e, 2);
      dup2(in, 0);
      setpgid(0, 0);  // signals sent to the test's group must not reach it
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(99);
    }
  }
  // Waits with a deadline; returns the exit code (128+N for a signal), or -1 on timeout.
  // The exit code (128+signal when killed), or -1 when it is still running after timeout.
  int wait(Ms timeout = Ms(30000)) {
    int status = 0;
    if (!testing::waitUntil([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout,
                            Ms(5))) {
      return -1;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  std::string out() const { return readFile(out_); }
  std::string err() const { return readFile(err_); }

 private:
  pid_t pid_ = -1;
  std::filesystem::path out_, err_;
};

struct Recorded {
  std::vector<std::pair<int, std::string>> lines;  // (stream 0/1, text)
  std::vector<std::uint32_t> lineNos;
  int exits = 0;
  bool exitSignaled = false;
  int exitValue = 0;
  std::uint64_t durationMs = 0;
  std::string command;
  std::vector<std::string> tail;
  std::uint32_t stdoutLines = 0, stderrLines = 0;
  std::vector<std::string> kinds;
  std::string release, service, phase;
  std::int32_t childPid = 0;
  std::string cgroup, user;
  // What the collector's validator says of each event's content (quarantine reasons).
  std::vector<std::string> refusedByCollector;
  std::size_t blocks = 0;  // hook.block records the lines came in
};

void take(Recorded& r, Event::Reader e);

Recorded readSpool(const std::filesystem::path& dir) {
  Recorded r;
  // Without a daemon, `hook` keeps its records in the fallback queue; it returns before its
  // detached supervisor has finished writing them: wait for that, and import them as the daemon
  // would.
  octolaunch::testing::importAgentQueue(dir, Ms(20000));
  auto spool = Spool::open({dir, 64 << 20});
  BlockLines blockLines;
  spool->readAfter(0, 1u << 30, [&](std::uint64_t, kj::ArrayPtr<const capnp::word> words) {
    capnp::FlatArrayMessageReader reader(words);
    auto record = reader.getRoot<Event>();
    r.release = record.getRelease().cStr();
    r.service = record.getService().cStr();
    if (auto bad = ingest::checkEventContent(record)) r.refusedByCollector.push_back(*bad);
    if (record.getPayload().isHookBlock()) ++r.blocks;
    // Lines as the collector reads them: a hook.block's one by one.
    blockLines.forEachLine(record, 0, [&](std::uint32_t, Event::Reader e) {
      take(r, e);
      return true;
    });
  });
  return r;
}

void take(Recorded& r, Event::Reader e) {
  {
    auto p = e.getPayload();
    if (p.isHookOutput()) {
      auto o = p.getHookOutput();
      r.lines.emplace_back(o.getStream() == schema::HookOutput::Stream::STDOUT ? 0 : 1,
                           o.getLine().cStr());
      r.lineNos.push_back(o.getLineNo());
    } else if (p.isHookExit()) {
      auto x = p.getHookExit();
      ++r.exits;
      r.exitSignaled = x.isSignal();
      r.exitValue = x.isSignal() ? x.getSignal() : x.getExitCode();
      r.durationMs = x.getDurationMs();
      r.command = x.getCommand().cStr();
      for (auto t : x.getTail()) r.tail.push_back(t.cStr());
      r.stdoutLines = x.getStdoutLines();
      r.stderrLines = x.getStderrLines();
      r.kinds.push_back("hook.exit");
      r.phase = x.getPhase().cStr();
      r.childPid = x.getChildPid();
      r.cgroup = x.getCgroup().cStr();
      r.user = x.getUser().cStr();
    } else if (p.isDeployStart()) {
      r.kinds.push_back("deploy.start");
      r.phase = p.getDeployStart().getPhase().cStr();
    } else if (p.isDeployFinish()) {
      r.kinds.push_back(p.getDeployFinish().getOutcome() == schema::DeployMarker::Outcome::FAILED
                            ? "deploy.finish failed"
                            : "deploy.finish");
    }
  }
}

class HookBinary : public ::testing::Test {
 protected:
  std::filesystem::path spool() const { return dir_.path() / "spool"; }
  std::filesystem::path config(const std::string& text) const {
    auto p = dir_.path() / "agent.toml";
    std::ofstream(p) << text;
    return p;
  }
  std::vector<std::string> hook(std::vector<std::string> command,
                                std::vector<std::string> flags = {}) const {
    std::vector<std::string> argv = {AGENT_BIN,     "hook",
                                     "--spool-dir", spool().string(),
                                     "--config",    (dir_.path() / "none.toml").string()};
    if (!std::filesystem::exists(dir_.path() / "none.toml"))
      std::ofstream(dir_.path() / "none.toml");
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }
  TempDir dir_;
  TempDir io_;
};

TEST_F(HookBinary, ExitStatusIsTheCommands) {
  struct Case {
    std::vector<std::string> cmd;
    int status;
  };
  auto notExecutable = io_.path() / "script.txt";
  std::ofstream(notExecutable) << "echo hi\n";
  std::filesystem::permissions(notExecutable, std::filesystem::perms(0644));
  for (const Case& c : std::vector<Case>{{{"/bin/true"}, 0},
                                         {{"/bin/sh", "-c", "exit 3"}, 3},
                                         {{"/nonexistent/cmd"}, 127},
                                         {{"no-such-command-octolaunch"}, 127},
                                         {{notExecutable.string()}, 126},
                                         {{io_.path().string()}, 126},  // a directory
                                         {{"/bin/sh", "-c", "kill -TERM $$"}, 128 + SIGTERM},
                                         {{"/bin/sh", "-c", "kill -KILL $$"}, 128 + SIGKILL}}) {
    Child child(hook(c.cmd), io_.path());
    EXPECT_EQ(child.wait(), c.status) << c.cmd.back() << "\n" << child.err();
  }
  Recorded r = readSpool(spool());
  ASSERT_EQ(r.exits, 8);
}

TEST_F(HookBinary, RecordsSignalInHookExit) {
  Child child(hook({"/bin/sh", "-c", "echo before; kill -TERM $$"},
                   {"--release", "r9", "--service", "api", "--phase", "migrate"}),
              io_.path());
  ASSERT_EQ(child.wait(), 128 + SIGTERM);
  Recorded r = readSpool(spool());
  ASSERT_EQ(r.exits, 1);
  EXPECT_TRUE(r.exitSignaled);
  EXPECT_EQ(r.exitValue, SIGTERM);
  EXPECT_EQ(r.release, "r9");
  EXPECT_EQ(r.service, "api");
  EXPECT_EQ(r.tail, std::vector<std::string>{"before"});
}

TEST_F(HookBinary, RecordsTheCommandsPidCgroupAndTheUser) {
  Child child(hook({"/bin/sh", "-c", "echo $$"}), io_.path());
  ASSERT_EQ(child.wait(), 0) << child.err();
  Recorded r = readSpool(spool());
  ASSERT_EQ(r.exits, 1);
  EXPECT_EQ(std::to_string(r.childPid) + "\n", child.out()) << "the pid of the command itself";
  const passwd* me = getpwuid(getuid());
  ASSERT_NE(me, nullptr);
  EXPECT_EQ(r.user, me->pw_name);
  // The command starts where the hook was started: in this test's cgroup.
  EXPECT_EQ(r.cgroup.substr(0, 1), "/");
  EXPECT_NE(readFile("/proc/self/cgroup").find(":" + r.cgroup + "\n"), std::string::npos)
      << r.cgroup;
  EXPECT_EQ(r.refusedByCollector, std::vector<std::string>{});
}

TEST_F(HookBinary, NotFoundIsRecordedAs127) {
  Child child(hook({"no-such-command-octolaunch", "--token", "s3cret"}), io_.path());
  ASSERT_EQ(child.wait(), 127);
  EXPECT_NE(child.err().find("no-such-command-octolaunch"), std::string::npos);
  Recorded r = readSpool(spool());
  ASSERT_EQ(r.exits, 1);
  EXPECT_EQ(r.exitValue, 127);
  EXPECT_EQ(r.command, "no-such-command-octolaunch --token ***");
  EXPECT_EQ(r.childPid, 0) << "the command never started";
}

TEST_F(HookBinary, NoCommandIsUsageExit2) {
  Child child({AGENT_BIN, "hook", "--spool-dir", spool().string()}, io_.path());
  EXPECT_EQ(child.wait(), 2);
  EXPECT_NE(child.err().find("usage"), std::string::npos);
}

TEST_F(HookBinary, PassthroughIsByteIdenticalAndLinesAreRecorded) {
  // Binary and non-UTF-8 bytes, NULs, CRs, a last line without newline; both streams.
  std::string payload;
  for (int i = 0; i < 20000; ++i) payload += "line " + std::to_string(i) + " caf\xc3\xa9\n";
  static constexpr char kBinary[] = "bin\0ary \xff\xfe\x80 end\r\n";
  payload += std::string(kBinary, sizeof(kBinary) - 1);
  for (int b = 0; b < 256; ++b) payload.push_back(static_cast<char>(b));
  payload += "no final newline";
  auto data = io_.path() / "payload";
  std::ofstream(data, std::ios::binary) << payload;
  std::string script = "cat '" + data.string() + "'; printf 'err one\\nerr two' >&2; exit 0";

  Child child(hook({"/bin/sh", "-c", script}), io_.path());
  ASSERT_EQ(child.wait(), 0) << child.err();
  EXPECT_EQ(child.out(), payload);
  // Without a daemon, `hook` first says that it keeps the records in the queue.
  std::string err = child.err();
  const std::string warning = "octolaunch-agent: warning: the agent daemon is not reachable";
  ASSERT_EQ(err.rfind(warning, 0), 0u) << err;
  err.erase(0, err.find('\n') + 1);
  EXPECT_EQ(err, "err one\nerr two");

  Recorded r = readSpool(spool());
  std::size_t stdoutLines = 0;
  std::size_t stderrLines = 0;
  for (const auto& [stream, text] : r.lines) (stream == 0 ? stdoutLines : stderrLines)++;
  EXPECT_EQ(
      stdoutLines,
      20000u + 3u);  // + the binary line, the 0x00..0xff line (its 0x0a ends a line), the last
  EXPECT_EQ(stderrLines, 2u);
  std::vector<std::string> out;
  for (const auto& [stream, text] : r.lines) {
    if (stream == 0) out.push_back(text);
  }
  ASSERT_EQ(out.size(), 20003u);
  EXPECT_EQ(out[0], "line 0 caf\xc3\xa9");
  EXPECT_EQ(out[20000], "bin\\x00ary \\xff\\xfe\\x80 end");
  EXPECT_EQ(out[20001], "\\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09");
  ASSERT_GE(out[20002].size(), 16u);
  EXPECT_EQ(out[20002].substr(out[20002].size() - 16), "no final newline");
  EXPECT_NE(out[20002].find("\\x80\\x81"), std::string::npos);
  EXPECT_EQ(r.stdoutLines, 20003u);
  EXPECT_EQ(r.stderrLines, 2u);
  EXPECT_EQ(r.exits, 1);
  EXPECT_EQ(r.tail.back(), "err two");
  // Line numbers per stream, from 1, no gaps.
  std::uint32_t expectOut = 1, expectErr = 1;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    EXPECT_EQ(r.lineNos[i], r.lines[i].first == 0 ? expectOut++ : expectErr++);
  }
}

TEST_F(HookBinary, LongLineIsSplitNotDropped) {
  auto cfg = config("[hook]\nmax_line_bytes = 1000\n");
  std::string line(25000, 'x');
  auto data = io_.path() / "long";
  std::ofstream(data) << line << "\nshort\n";
  std::vector<std::string> argv = {AGENT_BIN,    "hook",        "--config",
                                   cfg.string(), "--spool-dir", spool().string(),
                                   "--",         "/bin/cat",    data.string()};
  Child child(argv, io_.path());
  ASSERT_EQ(child.wait(), 0);
  EXPECT_EQ(child.out(), line + "\nshort\n");
  Recorded r = readSpool(spool());
  ASSERT_EQ(r.lines.size(), 26u);
  std::string joined;
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(r.lineNos[i], 1u);
    joined += r.lines[i].second;
  }
  EXPECT_EQ(joined, line);
  EXPECT_EQ(r.lines[25].second, "short");
  EXPECT_EQ(r.lineNos[25], 2u);
}

TEST_F(HookBinary, RedactsRecordedLinesButNotThePassthrough) {
  Child child(hook({"/bin/sh", "-c", "echo 'psql password=hunter2 dbname=x'"}), io_.path());
  ASSERT_EQ(child.wait(), 0);
  EXPECT_EQ(child.out(), "psql password=hunter2 dbname=x\n");
  Recorded r = readSpool(spool());
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].second, "psql password=*** dbname=x");
  EXPECT_EQ(r.command.find("hunter2"), std::string::npos);
}

TEST_F(HookBinary, BackgroundChildHoldingThePipesReturnsAfterGrace) {
  auto cfg = config("[hook]\ngrace_seconds = 1\n");
  auto pidFile = io_.path() / "background.pid";
  std::vector<std::string> argv = {
      AGENT_BIN,     "hook",
      "--config",    cfg.string(),
      "--spool-dir", spool().string(),
      "--",          "/bin/sh",
      "-c",          "sleep 30 & echo $! > '" + pidFile.string() + "'; echo started; exit 4"};
  auto start = std::chrono::steady_clock::now();
  Child child(argv, io_.path());
  EXPECT_EQ(child.wait(Ms(20000)), 4);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, Ms(900));
  EXPECT_LT(took, Ms(10000));
  EXPECT_EQ(child.out(), "started\n");
  Recorded r = readSpool(spool());
  EXPECT_EQ(r.exits, 1);
  EXPECT_EQ(r.exitValue, 4);
  ASSERT_EQ(r.lines.size(), 1u);
  // The background sleep still holds the pipes' write ends: end it, by its pid.
  pid_t background = 0;
  std::ifstream(pidFile) >> background;
  ASSERT_GT(background, 0);
  kill(background, SIGKILL);
}

TEST_F(HookBinary, ForwardsSigtermToTheCommand) {
  auto ready = io_.path() / "ready";
  std::string script = "trap 'echo got TERM; exit 7' TERM; touch '" + ready.string() +
                       "'; while :; do sleep 0.05; done";
  Child child(hook({"/bin/sh", "-c", script}), io_.path());
  ASSERT_TRUE(testing::waitUntil([&] { return std::filesystem::exists(ready); }, Ms(10000)));
  kill(child.pid(), SIGTERM);
  EXPECT_EQ(child.wait(Ms(10000)), 7);
  EXPECT_EQ(child.out(), "got TERM\n");
}

TEST_F(HookBinary, UnusableSpoolWarnsAndStillRunsTheCommand) {
  std::vector<std::string> argv = {AGENT_BIN, "hook",    "--spool-dir", "/proc/octolaunch-no-spool",
                                   "--",      "/bin/sh", "-c",          "echo hello; exit 5"};
  Child child(argv, io_.path());
  EXPECT_EQ(child.wait(), 5);
  EXPECT_EQ(child.out(), "hello\n");
  EXPECT_NE(child.err().find("warning"), std::string::npos) << child.err();
}

TEST_F(HookBinary, BrokenConfigFileStillRunsTheCommand) {
  auto cfg = config("[hook\n");
  std::vector<std::string> argv = {AGENT_BIN,     "hook",           "--config", cfg.string(),
                                   "--spool-dir", spool().string(), "--",       "/bin/sh",
                                   "-c",          "echo ok"};
  Child child(argv, io_.path());
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(child.out(), "ok\n");
  EXPECT_NE(child.err().find("agent.toml"), std::string::npos) << child.err();
}

TEST_F(HookBinary, DeployMarkers) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"start"},
        std::vector<std::string>{"finish", "--outcome", "failed"}}) {
    std::vector<std::string> argv = {AGENT_BIN, "deploy"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const char* a : {"--release", "r42", "--service", "api", "--spool-dir"}) argv.push_back(a);
    argv.push_back(spool().string());
    Child child(argv, io_.path());
    EXPECT_EQ(child.wait(), 0) << child.err();
  }
  Recorded r = readSpool(spool());
  EXPECT_EQ(r.kinds, (std::vector<std::string>{"deploy.start", "deploy.finish failed"}));
  EXPECT_EQ(r.release, "r42");
  EXPECT_EQ(r.service, "api");
}

// An identifier the collector would refuse (over 256 bytes, not UTF-8) is recorded changed to
// fit, with one warning each; the deploy goes on as if nothing happened.
TEST_F(HookBinary, OverlongOrInvalidIdentifiersAreRecordedCutWithAWarning) {
  const std::string release(300, 'r');
  Child child(hook({"/bin/sh", "-c", "echo out; exit 3"},
                   {"--release", release, "--service", "api\xff", "--phase", "migrate"}),
              io_.path());
  ASSERT_EQ(child.wait(), 3) << child.err();
  EXPECT_EQ(child.out(), "out\n");
  const std::string err = child.err();
  EXPECT_NE(err.find("warning: --release: 300 bytes, over the limit of 256"), std::string::npos)
      << err;
  EXPECT_NE(err.find("warning: --service: not valid UTF-8"), std::string::npos) << err;
  EXPECT_EQ(err.find("--phase"), std::string::npos) << "a fine value is not warned about\n" << err;

  Recorded r = readSpool(spool());
  ASSERT_EQ(r.exits, 1);
  EXPECT_EQ(r.exitValue, 3);
  EXPECT_EQ(r.release.size(), kMaxIdentifierBytes);
  EXPECT_EQ(r.release, std::string(kMaxIdentifierBytes - kTruncatedMarker.size(), 'r') +
                           std::string(kTruncatedMarker));
  EXPECT_EQ(r.service, "api\\xff");
  EXPECT_EQ(r.phase, "migrate");
  EXPECT_EQ(r.refusedByCollector, std::vector<std::string>{}) << "stored, not quarantined";
}

TEST_F(HookBinary, DeployRecordsAnOverlongReleaseCutAndExits0) {
  std::string release = "v1-";
  while (release.size() < 300) release += "\xc3\xa9";  // é: the cut must not split one
  std::vector<std::string> argv = {AGENT_BIN, "deploy",      "start",         "--release",
                                   release,   "--service",   "api",           "--phase",
                                   "canary",  "--spool-dir", spool().string()};
  Child child(argv, io_.path());
  ASSERT_EQ(child.wait(), 0) << child.err();
  EXPECT_NE(child.err().find("warning: --release: " + std::to_string(release.size()) +
                             " bytes, over the limit of 256"),
            std::string::npos)
      << child.err();
  Recorded r = readSpool(spool());
  EXPECT_EQ(r.kinds, std::vector<std::string>{"deploy.start"});
  ASSERT_LE(r.release.size(), kMaxIdentifierBytes);
  EXPECT_EQ(r.release.substr(0, 5), "v1-\xc3\xa9");
  const std::string kept = r.release.substr(0, r.release.size() - kTruncatedMarker.size());
  EXPECT_EQ(r.release.substr(kept.size()), kTruncatedMarker);
  EXPECT_EQ(kept, release.substr(0, kept.size()));
  EXPECT_EQ((kept.size() - 3) % 2, 0u) << "cut inside a character";
  EXPECT_EQ(r.phase, "canary");
  EXPECT_EQ(r.refusedByCollector, std::vector<std::string>{}) << "stored, not quarantined";
}

TEST_F(HookBinary, DeployFinishAfterAHookComesAfterItsLinesInSeqOrder) {
  // The hook returns before its supervisor finished recording; the daemon holds the marker back
  // until the same user's hook is done, so the marker still follows it.
  const auto daemonConfig = config("[sources]\nenabled = false\n");
  Child daemon({AGENT_BIN, "run", "--config", daemonConfig.string(), "--spool-dir",
                spool().string(), "--collector", "127.0.0.1:1"},
               dir_.path());
  ASSERT_TRUE(testing::waitUntil(
      [&] { return std::filesystem::exists(dir_.path() / "agent.sock"); }, Ms(20000), Ms(10)));
  Child hookRun(hook({"/bin/sh", "-c", "seq 1 50000"}), io_.path());
  ASSERT_EQ(hookRun.wait(), 0);
  EXPECT_EQ(hookRun.err(), "");  // through the daemon: nothing queued
  std::vector<std::string> argv = {AGENT_BIN, "deploy",      "finish",        "--release",
                                   "r1",      "--service",   "api",           "--outcome",
                                   "ok",      "--spool-dir", spool().string()};
  Child marker(argv, io_.path());
  ASSERT_EQ(marker.wait(), 0);
  ::kill(daemon.pid(), SIGTERM);
  ASSERT_EQ(daemon.wait(), 0);
  Recorded r = readSpool(spool());
  EXPECT_EQ(r.lines.size(), 50000u);
  // Lines travel in blocks (at most kMaxBlockLines each): a handful of records, not 50,000.
  EXPECT_GE(r.blocks, 50000u / kMaxBlockLines);
  EXPECT_LT(r.blocks, 1000u);
  EXPECT_EQ(r.kinds, (std::vector<std::string>{"hook.exit", "deploy.finish"}));
}

// A v1 memory cgroup with a small limit, for a hook run inside it; removed once empty.
class LimitedMemoryCgroup final {
 public:
  explicit LimitedMemoryCgroup(const std::string& name)
      : relative_("/" + name), dir_("/sys/fs/cgroup/memory" + relative_) {
    std::filesystem::create_directory(dir_);
    std::ofstream(dir_ / "memory.limit_in_bytes") << (64 << 20);
  }
  ~LimitedMemoryCgroup() {
    // The hook's detached supervisor may still be on its way out.
    testing::waitUntil([&] { return rmdir(dir_.c_str()) == 0 || errno == ENOENT; }, Ms(10000));
  }
  const std::string& relative() const { return relative_; }  // as /proc/<pid>/cgroup names it
  std::string procs() const { return (dir_ / "cgroup.procs").string(); }

 private:
  std::string relative_;
  std::filesystem::path dir_;
};

// The kernel's "oom-kill:" records in /dev/kmsg so far.
std::vector<std::string> kernelOomKillLines() {
  std::vector<std::string> lines;
  int fd = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return lines;
  char record[8192];
  for (;;) {
    ssize_t n = ::read(fd, record, sizeof(record));
    if (n < 0 && errno == EPIPE) continue;  // overwritten while we read: skip ahead
    if (n <= 0) break;
    std::string text(record, static_cast<std::size_t>(n));
    if (text.find(";oom-kill:") != std::string::npos) lines.push_back(text);
  }
  ::close(fd);
  return lines;
}

// The collector ties an OOM kill to the hook that caused it by the cgroup and pid recorded in
// hook.exit: they must be the ones the kernel names when it kills the hook's command.
TEST_F(HookBinary, ACommandOomKilledInItsCgroupIsRecordedWithTheKernelsCgroupAndPid) {
  if (geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs root to create a memory cgroup");
  if (!std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
    OCTOLAUNCH_SKIP_UNLESS_CI("needs the cgroup v1 memory controller at /sys/fs/cgroup/memory");
  LimitedMemoryCgroup cg("octolaunch-hook-test-" + std::to_string(getpid()));
  std::string allocate =
      "import os\nprint(os.getpid(), flush=True)\na = []\n"
      "while True: a.append(bytearray(1 << 20))";
  std::string wrapper;  // the hook itself runs in the cgroup, as under a service's unit
  for (const std::string& arg : hook({"python3", "-c", allocate})) wrapper += " '" + arg + "'";
  Child child({"/bin/sh", "-c", "echo $$ > " + cg.procs() + " && exec" + wrapper}, io_.path());
  ASSERT_EQ(child.wait(Ms(60000)), 128 + SIGKILL) << child.err();

  Recorded r = readSpool(spool());
  ASSERT_EQ(r.exits, 1);
  EXPECT_TRUE(r.exitSignaled);
  EXPECT_EQ(r.exitValue, SIGKILL);
  EXPECT_EQ(std::to_string(r.childPid) + "\n", child.out());
  EXPECT_EQ(r.cgroup, cg.relative());
  std::vector<std::string> kills = kernelOomKillLines();
  const std::string victim = "task_memcg=" + r.cgroup + ",";
  const std::string pid = ",pid=" + std::to_string(r.childPid) + ",";
  EXPECT_TRUE(std::any_of(kills.begin(), kills.end(),
                          [&](const std::string& line) {
                            return line.find(victim) != std::string::npos &&
                                   line.find(pid) != std::string::npos;
                          }))
      << "no kernel oom-kill line names " << victim << " and " << pid;
}

}  // namespace
}  // namespace octolaunch::agent
