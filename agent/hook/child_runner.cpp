#include "agent/hook/child_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "agent/hook/child_identity.h"

namespace octolaunch::agent {

namespace {

class Fd final {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { close(); }
  void reset(int fd) {
    close();
    fd_ = fd;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

void makePipe(Fd& readEnd, Fd& writeEnd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  readEnd.reset(fds[0]);
  writeEnd.reset(fds[1]);
}

// Room for the command's output while the I/O loop gathers it (kGatherNs): a fast writer then
// does not block on a full pipe in between. Best effort: the kernel may refuse (pipe-max-size,
// the user's pipe quota), and the default 64 KiB still works, with more wake-ups.
constexpr int kOutputPipeBytes = 1 << 20;

// After a read that emptied a pipe, the loop waits this long before looking again, so that a
// command writing fast is read (and passed on) in large pieces with one wake-up each instead of
// one per write of the command's stdio buffer. Wake-ups, not copies, are what the pass-through
// costs. Output never waits longer than this; a command that writes rarely never waits at all
// (the first read of a burst happens as soon as poll() reports it).
constexpr long kGatherNs = 1'000'000;

void makeOutputPipe(Fd& readEnd, Fd& writeEnd) {
  makePipe(readEnd, writeEnd);
  (void)::fcntl(readEnd.get(), F_SETPIPE_SZ, kOutputPipeBytes);
}

// Writes all of data to fd (which may be non-blocking). False when the fd refuses (EPIPE...).
bool writeAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
    } else {
      return false;
    }
  }
  return true;
}

[[noreturn]] void execChild(char* const* args, const sigset_t& mask, int outFd, int errFd,
                            int reportFd) {
  // Only async-signal-safe calls from here on (the parent may have threads).
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);
  if (::dup2(outFd, STDOUT_FILENO) < 0 || ::dup2(errFd, STDERR_FILENO) < 0) {
    int e = errno;
    (void)!::write(reportFd, &e, sizeof(e));
    ::_exit(126);
  }
  ::execvp(args[0], args);
  int e = errno;
  (void)!::write(reportFd, &e, sizeof(e));
  ::_exit(127);
}

}  // namespace

sigset_t blockHookSignals() {
  sigset_t mask;
  sigset_t previous;
  sigemptyset(&mask);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&mask, s);
  ::pthread_sigmask(SIG_BLOCK, &mask, &previous);
  return previous;
}

namespace {

void waitForExit(pid_t pid, int& status) {
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// The exec errno the child reported on its close-on-exec pipe; 0 when exec succeeded.
int readExecErrno(const Fd& report) {
  int execErrno = 0;
  for (;;) {
    ssize_t n = ::read(report.get(), &execErrno, sizeof(execErrno));
    if (n < 0 && errno == EINTR) continue;
    return n == static_cast<ssize_t>(sizeof(execErrno)) ? execErrno : 0;
  }
}

// While alive, our own writes to a vanished reader fail with EPIPE instead of killing the wrapper.
class IgnoreSigpipe final {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &previous_);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &previous_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction previous_ {};
};

// One started command: passes its output through, forwards signals, notes its exit.
class RunningChild final {
 public:
  RunningChild(pid_t pid, Fd& signals, Fd& out, Fd& err, std::int64_t startNs,
               std::chrono::milliseconds grace, const Clock& clock, ChunkPool& pool,
               const OutputObserver& observer)
      : pid_(pid),
        signals_(signals),
        streams_{&out, &err},
        startNs_(startNs),
        grace_(grace),
        clock_(clock),
        pool_(pool),
        observer_(observer) {}
  ~RunningChild() { pool_.release(chunk_.data); }
  RunningChild(const RunningChild&) = delete;
  RunningChild& operator=(const RunningChild&) = delete;

  // Until the command exited and both pipes are at EOF, or the grace after its exit ran out.
  void pump() {
    while (!exited_ || streams_[0]->open() || streams_[1]->open()) {
      if (!pollOnce()) break;
    }
    if (!exited_) {
      int status = 0;
      waitForExit(pid_, status);
      noteExit(status);
    }
  }
  ChildResult& result() { return result_; }

 private:
  static constexpr int kTargets[2] = {STDOUT_FILENO, STDERR_FILENO};

  // One poll round; false when the loop must end (grace expired, or poll itself failed).
  bool pollOnce() {
    int timeoutMs = -1;
    if (exited_) {
      std::int64_t left = exitMonoNs_ + grace_.count() * 1'000'000 - clock_.monotonicNs();
      if (left <= 0) {
        result_.graceExpired = true;
        return false;
      }
      timeoutMs = static_cast<int>((left + 999'999) / 1'000'000);
    }
    pollfd fds[3];
    int which[3] = {-1, -1, -1};
    int count = 0;
    fds[count++] = pollfd{signals_.get(), POLLIN, 0};
    for (int s = 0; s < 2; ++s) {
      if (streams_[s]->open()) {
        which[count] = s;
        fds[count++] = pollfd{streams_[s]->get(), POLLIN, 0};
      }
    }
    int ready = ::poll(fds, static_cast<nfds_t>(count), timeoutMs);
    if (ready < 0 && errno == EINTR) return true;
    if (ready < 0) {
      // Cannot happen with valid fds; never throw once the command runs: stop passing output
      // through and wait for the exit.
      streams_[0]->close();
      streams_[1]->close();
      return false;
    }
    bool drained = false;  // a read emptied its pipe while the command was writing
    for (int i = 1; i < count; ++i) {
      if (fds[i].revents != 0 && passThrough(which[i]) < ChunkPool::kChunkBytes) drained = true;
    }
    if (fds[0].revents != 0) handleSignals();
    if (drained && !exited_) gather();
    return true;
  }

  // Lets the command's output gather in its pipe for kGatherNs (see there).
  static void gather() {
    timespec pause{0, kGatherNs};
    while (::nanosleep(&pause, &pause) != 0 && errno == EINTR) {
    }
  }

  // One read from stream s, written to our own stdout/stderr and handed to the observer. Returns
  // the bytes read; kChunkBytes when the read filled its buffer or found nothing (EOF, error).
  std::size_t passThrough(int s) {
    if (chunk_.data == nullptr) chunk_.data = pool_.acquire();
    ssize_t n = ::read(streams_[s]->get(), chunk_.data, ChunkPool::kChunkBytes);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return ChunkPool::kChunkBytes;
    if (n <= 0) {
      streams_[s]->close();
      return ChunkPool::kChunkBytes;
    }
    std::int64_t now = clock_.nowNs();
    chunk_.size = static_cast<std::size_t>(n);
    if (!writeAll(kTargets[s], chunk_.data, chunk_.size)) {
      // Our reader is gone: let the command find out the way it would have.
      streams_[s]->close();
    }
    try {
      observer_(s == 0 ? HookStream::out : HookStream::err, chunk_, now);
    } catch (...) {
      // Recording is best effort; passing output through is not.
    }
    return static_cast<std::size_t>(n);
  }

  void handleSignals() {
    signalfd_siginfo info{};
    while (::read(signals_.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      int signo = static_cast<int>(info.ssi_signo);
      if (signo == SIGCHLD) {
        int status = 0;
        if (!exited_ && ::waitpid(pid_, &status, WNOHANG) == pid_) noteExit(status);
      } else if (!exited_ && info.ssi_code != SI_KERNEL) {
        ::kill(pid_, signo);
      }
    }
  }

  // The one place a wait status is decoded.
  void noteExit(int status) {
    exited_ = true;
    exitMonoNs_ = clock_.monotonicNs();
    result_.durationNs = exitMonoNs_ - startNs_;
    result_.endTimeNs = clock_.nowNs();
    if (WIFSIGNALED(status)) {
      result_.signal = WTERMSIG(status);
      result_.status = 128 + WTERMSIG(status);
    } else {
      result_.exitCode = WEXITSTATUS(status);
      result_.status = WEXITSTATUS(status);
    }
  }

  const pid_t pid_;
  Fd& signals_;
  Fd* const streams_[2];
  const std::int64_t startNs_;
  const std::chrono::milliseconds grace_;
  const Clock& clock_;
  ChunkPool& pool_;
  const OutputObserver& observer_;
  OutputChunk chunk_;
  bool exited_ = false;
  std::int64_t exitMonoNs_ = 0;
  ChildResult result_;
};

// The command never ran: exec failed with execErrno (127 when not found, 126 otherwise).
ChildResult execFailed(pid_t pid, int execErrno, std::int64_t startNs, const Clock& clock) {
  int status = 0;
  waitForExit(pid, status);
  ChildResult result;
  result.execError = std::strerror(execErrno);
  result.status = execErrno == ENOENT ? 127 : 126;
  result.exitCode = result.status;
  result.durationNs = clock.monotonicNs() - startNs;
  result.endTimeNs = clock.nowNs();
  return result;
}

}  // namespace

ChildResult runChild(const std::vector<std::string>& argv, std::chrono::milliseconds grace,
                     const sigset_t& previousMask, const Clock& clock, ChunkPool& pool,
                     const OutputObserver& observer) {
  if (argv.empty()) throw std::invalid_argument("runChild: empty argv");
  sigset_t handled;
  sigemptyset(&handled);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&handled, s);
  Fd signals(::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals.open()) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));

  Fd outRead, outWrite, errRead, errWrite, reportRead, reportWrite;
  makeOutputPipe(outRead, outWrite);
  makeOutputPipe(errRead, errWrite);
  makePipe(reportRead, reportWrite);

  std::vector<char*> args;  // built before fork(): the child may not allocate
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const std::int64_t start = clock.monotonicNs();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0)
    execChild(args.data(), previousMask, outWrite.get(), errWrite.get(), reportWrite.get());
  outWrite.close();
  errWrite.close();
  reportWrite.close();

  if (int execErrno = readExecErrno(reportRead); execErrno != 0)
    return execFailed(pid, execErrno, start, clock);
  // Not reaped before pump() sees SIGCHLD: the pid is ours to read even if it already exited.
  std::string cgroup = cgroupOfProcess(pid);
  IgnoreSigpipe ignoreSigpipe;
  RunningChild child(pid, signals, outRead, errRead, start, grace, clock, pool, observer);
  child.pump();
  ChildResult result = std::move(child.result());
  result.childPid = pid;
  result.cgroup = std::move(cgroup);
  return result;
}

}  // namespace octolaunch::agent
