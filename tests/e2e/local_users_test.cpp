// Local users and the agent daemon, with the real binaries and real users: a deploy user (uid
// 65534, and a uid without a passwd entry) records through the daemon's socket and is credited by
// the kernel's word; it cannot open the spool nor another user's queued records; without the
// daemon its records wait in the queue and are imported once, credited to the file's owner; it
// cannot claim another uid, on the socket or in the queue. Needs root (to become other users).
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/local/fallback_queue.h"
#include "agent/local/local_client.h"
#include "agent/spool/spool.h"
#include "tests/support/harness.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace octolaunch {
namespace {

using namespace std::chrono_literals;
using schema::Event;
using testing::binPath;

constexpr uid_t kNobody = 65534;
constexpr uid_t kNameless = 4242;  // a second user, with no passwd entry

struct Recorded {
  std::string kind;
  std::int64_t uid = -1;
  std::string user;
  std::string service;
  std::string line;
};

std::vector<Recorded> readSpool(const std::filesystem::path& dir) {
  std::vector<Recorded> out;
  auto spool = agent::Spool::open({dir, std::uint64_t{64} << 20});
  spool->readAfter(0, 1u << 20, [&](std::uint64_t, kj::ArrayPtr<const capnp::word> words) {
    capnp::FlatArrayMessageReader reader(words);
    auto event = reader.getRoot<Event>();
    auto payload = event.getPayload();
    Recorded r;
    r.service = event.getService();
    switch (payload.which()) {
      case Event::Payload::HOOK_OUTPUT:
        r.kind = "hook.output";
        r.line = payload.getHookOutput().getLine();
        break;
      case Event::Payload::HOOK_BLOCK:  // one record per line, as the collector lists them
        for (auto line : payload.getHookBlock().getLines()) {
          Recorded l;
          l.service = r.service;
          l.kind = "hook.output";
          l.line = line.getText();
          out.push_back(std::move(l));
        }
        return;
      case Event::Payload::HOOK_EXIT:
        r.kind = "hook.exit";
        r.uid = payload.getHookExit().getUid();
        r.user = payload.getHookExit().getUser();
        break;
      case Event::Payload::DEPLOY_START:
        r.kind = "deploy.start";
        r.uid = payload.getDeployStart().getUid();
        r.user = payload.getDeployStart().getUser();
        break;
      case Event::Payload::DEPLOY_FINISH:
        r.kind = "deploy.finish";
        r.uid = payload.getDeployFinish().getUid();
        r.user = payload.getDeployFinish().getUser();
        break;
      default:
        r.kind = "other";
    }
    out.push_back(std::move(r));
  });
  return out;
}

std::size_t countKind(const std::vector<Recorded>& events, const std::string& kind) {
  std::size_t n = 0;
  for (const auto& e : events) n += e.kind == kind ? 1 : 0;
  return n;
}

// Runs fn in a forked child as uid (and gid uid, no supplementary groups); returns its exit code.
int asUser(uid_t uid, const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(100);
    ::_exit(fn());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The errno of open(path, flags) as uid; 0 when it succeeded.
int openErrnoAs(uid_t uid, const std::filesystem::path& path, int flags) {
  return asUser(uid, [&] {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd >= 0) return 0;
    return errno;
  });
}

class LocalUsers : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("needs root to run commands as other users");
    // Other users must reach the socket and the queue: the test's root is traversable.
    ::chmod(dir_.path().c_str(), 0755);
    config_ = dir_.write("agent.toml", "[sources]\nenabled = false\n").string();
    ::chmod(config_.c_str(), 0644);
  }
  std::filesystem::path spool() const { return dir_ / "spool"; }
  std::filesystem::path queue() const { return dir_ / "queue"; }
  std::filesystem::path socket() const { return dir_ / "agent.sock"; }

  void startDaemon() {
    testing::ProcessOptions options;
    options.argv = {binPath("octolaunch-agent"),
                    "run",
                    "--config",
                    config_,
                    "--spool-dir",
                    spool().string(),
                    "--collector",
                    "127.0.0.1:1"};
    options.captureStdout = false;
    options.discardStdout = true;
    daemon_ = std::make_unique<testing::Process>(options);
    ASSERT_TRUE(testing::waitUntil(
        [&] { return std::filesystem::exists(socket()) && std::filesystem::exists(queue()); }, 20s,
        10ms))
        << "the daemon did not create its socket";
  }
  void stopDaemon() {
    daemon_->signal(SIGTERM);
    auto status = daemon_->wait(20s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(testing::exitCodeOf(*status), 0);
    daemon_.reset();
  }

  // `octolaunch-agent ARGS...` as uid (setpriv), to completion.
  testing::RunResult agentAs(uid_t uid, std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/setpriv",
                                     "--reuid=" + std::to_string(uid),
                                     "--regid=" + std::to_string(uid),
                                     "--clear-groups",
                                     binPath("octolaunch-agent"),
                                     args.front(),
                                     "--config",
                                     config_,
                                     "--spool-dir",
                                     spool().string()};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return testing::run(argv, 60s);
  }
  testing::RunResult hookAs(uid_t uid, const std::string& service, const std::string& script) {
    return agentAs(
        uid, {"hook", "--release", "r1", "--service", service, "--", "/bin/sh", "-c", script});
  }
  std::vector<std::filesystem::path> queued() const {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(queue()))
      if (e.path().filename().string()[0] != '.') files.push_back(e.path());
    return files;
  }

  testing::TempDir dir_;
  std::string config_;
  std::unique_ptr<testing::Process> daemon_;
};

TEST_F(LocalUsers, HooksAndDeploysThroughTheDaemonCarryTheVerifiedUser) {
  startDaemon();
  auto hook = hookAs(kNobody, "api", "echo hello from nobody; echo oops >&2; exit 3");
  EXPECT_EQ(hook.exitCode, 3) << hook.err;  // the command's own status
  EXPECT_EQ(hook.out, "hello from nobody\n");
  EXPECT_EQ(hook.err.find("warning"), std::string::npos) << hook.err;  // nothing queued
  auto finish = agentAs(
      kNameless, {"deploy", "finish", "--release", "r1", "--service", "api", "--outcome", "ok"});
  EXPECT_EQ(finish.exitCode, 0) << finish.err;
  EXPECT_EQ(finish.err.find("warning"), std::string::npos) << finish.err;
  EXPECT_TRUE(queued().empty());

  // The hook's recorder finishes in the background: poll for its exit.
  std::vector<Recorded> events;
  ASSERT_TRUE(testing::waitUntil(
      [&] {
        events = readSpool(spool());
        return countKind(events, "hook.exit") == 1 && countKind(events, "deploy.finish") == 1;
      },
      20s, 20ms));
  EXPECT_EQ(countKind(events, "hook.output"), 2u);
  for (const auto& e : events) {
    if (e.kind == "hook.exit") {
      EXPECT_EQ(e.uid, kNobody);
      EXPECT_EQ(e.user, "nobody");
    }
    if (e.kind == "deploy.finish") {
      EXPECT_EQ(e.uid, kNameless);
      EXPECT_EQ(e.user, "uid 4242");
    }
  }
  stopDaemon();
}

TEST_F(LocalUsers, DeployUsersCannotOpenOrDeleteTheSpool) {
  startDaemon();
  struct stat st {};
  ASSERT_EQ(::stat(spool().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat((spool() / "data.mdb").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(openErrnoAs(kNobody, spool() / "data.mdb", O_RDONLY), EACCES);
  EXPECT_EQ(openErrnoAs(kNobody, spool() / "lock.mdb", O_RDWR), EACCES);
  EXPECT_EQ(openErrnoAs(kNobody, spool(), O_RDONLY | O_DIRECTORY), EACCES);
  EXPECT_EQ(
      asUser(kNobody, [&] { return ::unlink((spool() / "data.mdb").c_str()) == 0 ? 0 : errno; }),
      EACCES);
  stopDaemon();
}

TEST_F(LocalUsers, WithoutTheDaemonRecordsAreQueuedThenImportedOnceAndCreditedToTheirOwner) {
  startDaemon();  // makes the queue directory
  stopDaemon();
  struct stat st {};
  ASSERT_EQ(::stat(queue().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 03733u);

  auto nobody = hookAs(kNobody, "api", "echo nobody line; exit 0");
  EXPECT_EQ(nobody.exitCode, 0);
  EXPECT_NE(nobody.err.find("not reachable"), std::string::npos) << nobody.err;
  auto other = hookAs(kNameless, "worker", "echo other line; exit 7");
  EXPECT_EQ(other.exitCode, 7);
  auto finish = agentAs(kNobody, {"deploy", "finish", "--release", "r1", "--service", "api"});
  EXPECT_EQ(finish.exitCode, 0);

  // Wait until every detached recorder is done: its file is unlocked.
  ASSERT_TRUE(testing::waitUntil(
      [&] {
        for (const auto& f : queued()) {
          int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
          const bool locked = fd < 0 || ::flock(fd, LOCK_SH | LOCK_NB) != 0;
          if (fd >= 0) ::close(fd);
          if (locked) return false;
        }
        return queued().size() == 3;
      },
      20s, 10ms));

  // Another user can neither list the queue nor open a file it was told the name of.
  EXPECT_EQ(openErrnoAs(kNameless, queue(), O_RDONLY | O_DIRECTORY), EACCES);
  for (const auto& f : queued()) {
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    const uid_t stranger = st.st_uid == kNobody ? kNameless : kNobody;
    EXPECT_EQ(openErrnoAs(stranger, f, O_RDONLY), EACCES) << f;
    EXPECT_EQ(asUser(stranger, [&] { return ::unlink(f.c_str()) == 0 ? 0 : errno; }), EPERM);
  }
  // Keep a copy of one file as it was, to hand it to the daemon again after the import.
  const auto copy = dir_ / "kept-copy";
  const auto original = queued().front();
  std::filesystem::copy_file(original, copy);
  ASSERT_EQ(::stat(original.c_str(), &st), 0);
  ASSERT_EQ(::chown(copy.c_str(), st.st_uid, st.st_gid), 0);

  startDaemon();
  std::vector<Recorded> events;
  ASSERT_TRUE(testing::waitUntil(
      [&] {
        if (!queued().empty()) return false;
        events = readSpool(spool());
        return countKind(events, "hook.exit") == 2;
      },
      20s, 20ms));
  for (const auto& e : events) {
    if (e.kind == "hook.exit" || e.kind == "deploy.finish") {
      EXPECT_EQ(e.uid, e.service == "api" ? kNobody : kNameless) << e.kind << " " << e.service;
    }
  }
  EXPECT_EQ(countKind(events, "deploy.finish"), 1u);
  const std::size_t total = events.size();

  // The same file once more (an import that crashed before deleting it): nothing new.
  std::filesystem::rename(copy, queue() / "again");
  ASSERT_TRUE(testing::waitUntil([&] { return queued().empty(); }, 20s, 20ms));
  stopDaemon();
  // And a restart imports nothing twice.
  startDaemon();
  stopDaemon();
  EXPECT_EQ(readSpool(spool()).size(), total);
}

TEST_F(LocalUsers, AUserCannotClaimAnotherUidOnTheSocketOrInTheQueue) {
  startDaemon();
  // A hand-made client that writes uid 0 and "root" into its hook.exit, and tries an oom.kill.
  auto forge = [&](bool viaQueue) {
    return asUser(kNobody, [&] {
      agent::LocalClientOptions options;
      options.socket = viaQueue ? dir_ / "no-daemon.sock" : socket();
      options.queueDir = queue();
      agent::LocalSink sink(options, [](const std::string&) {});
      capnp::MallocMessageBuilder message;
      auto event = message.initRoot<Event>();
      event.setService(viaQueue ? "forged-queue" : "forged-socket");
      auto exit = event.getPayload().initHookExit();
      exit.setUid(0);
      exit.setUser("root");
      Event::Reader reader = event.asReader();
      sink.append(std::span<const Event::Reader>(&reader, 1));
      return 0;
    });
  };
  EXPECT_EQ(forge(false), 0);
  EXPECT_EQ(forge(true), 0);
  const int oom = asUser(kNobody, [&] {
    agent::LocalClientOptions options;
    options.socket = socket();
    options.queueDir = queue();
    bool refused = false;
    agent::LocalSink sink(options, [&](const std::string& w) {
      refused = refused || w.find("refused") != std::string::npos;
    });
    capnp::MallocMessageBuilder message;
    message.initRoot<Event>().getPayload().initOomKill().setPid(1);
    Event::Reader reader = message.getRoot<Event>().asReader();
    sink.append(std::span<const Event::Reader>(&reader, 1));
    return refused ? 0 : 1;
  });
  EXPECT_EQ(oom, 0) << "the daemon must refuse an oom.kill from a local user";

  std::vector<Recorded> events;
  ASSERT_TRUE(testing::waitUntil(
      [&] {
        events = readSpool(spool());
        return countKind(events, "hook.exit") == 2;
      },
      20s, 20ms));
  for (const auto& e : events) {
    EXPECT_NE(e.kind, "other");
    if (e.kind == "hook.exit") {
      EXPECT_EQ(e.uid, kNobody) << e.service;
      EXPECT_EQ(e.user, "nobody") << e.service;
    }
  }
  stopDaemon();
}

}  // namespace
}  // namespace octolaunch
