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
  makePipe(outRead, outWrite);
  makePipe(errRead, errWrite);
  makePipe(reportRead, reportWrite);

  std::vector<char*> args;  // built before fork(): the child may not allocate
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  ChildResult result;
  const std::int64_t start = clock.monotonicNs();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0)
    execChild(args.data(), previousMask, outWrite.get(), errWrite.get(), reportWrite.get());
  outWrite.close();
  errWrite.close();
  reportWrite.close();

  int execErrno = 0;
  for (;;) {
    ssize_t n = ::read(reportRead.get(), &execErrno, sizeof(execErrno));
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof(execErrno))) execErrno = 0;
    break;
  }
  if (execErrno != 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.execError = std::strerror(execErrno);
    result.status = execErrno == ENOENT ? 127 : 126;
    result.exitCode = result.status;
    result.durationNs = clock.monotonicNs() - start;
    result.endTimeNs = clock.nowNs();
    return result;
  }

  // Our own writes to a vanished reader must fail with EPIPE, not kill the wrapper.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction oldPipe {};
  ::sigaction(SIGPIPE, &ignore, &oldPipe);

  OutputChunk chunk;
  bool exited = false;
  std::int64_t exitMono = 0;
  Fd* streams[2] = {&outRead, &errRead};
  const int targets[2] = {STDOUT_FILENO, STDERR_FILENO};
  for (;;) {
    if (exited && !outRead.open() && !errRead.open()) break;
    int timeoutMs = -1;
    if (exited) {
      std::int64_t left = exitMono + grace.count() * 1'000'000 - clock.monotonicNs();
      if (left <= 0) {
        result.graceExpired = true;
        break;
      }
      timeoutMs = static_cast<int>((left + 999'999) / 1'000'000);
    }
    pollfd fds[3];
    int count = 0;
    fds[count++] = pollfd{signals.get(), POLLIN, 0};
    int which[3] = {-1, -1, -1};
    for (int s = 0; s < 2; ++s) {
      if (streams[s]->open()) {
        which[count] = s;
        fds[count++] = pollfd{streams[s]->get(), POLLIN, 0};
      }
    }
    int ready = ::poll(fds, static_cast<nfds_t>(count), timeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      // Cannot happen with valid fds; never throw once the command runs: stop passing output
      // through and wait for the exit below.
      outRead.close();
      errRead.close();
      break;
    }
    for (int i = 1; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      int s = which[i];
      if (chunk.data == nullptr) chunk.data = pool.acquire();
      ssize_t n = ::read(streams[s]->get(), chunk.data, ChunkPool::kChunkBytes);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        streams[s]->close();
        continue;
      }
      std::int64_t now = clock.nowNs();
      chunk.size = static_cast<std::size_t>(n);
      if (!writeAll(targets[s], chunk.data, chunk.size)) {
        // Our reader is gone: let the command find out the way it would have.
        streams[s]->close();
      }
      try {
        observer(s == 0 ? HookStream::out : HookStream::err, chunk, now);
      } catch (...) {
        // Recording is best effort; passing output through is not.
      }
    }
    if (fds[0].revents != 0) {
      signalfd_siginfo info{};
      while (::read(signals.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        int signo = static_cast<int>(info.ssi_signo);
        if (signo == SIGCHLD) {
          int status = 0;
          pid_t got = ::waitpid(pid, &status, WNOHANG);
          if (got == pid && !exited) {
            exited = true;
            exitMono = clock.monotonicNs();
            result.durationNs = exitMono - start;
            result.endTimeNs = clock.nowNs();
            if (WIFSIGNALED(status)) {
              result.signal = WTERMSIG(status);
              result.status = 128 + WTERMSIG(status);
            } else {
              result.exitCode = WEXITSTATUS(status);
              result.status = WEXITSTATUS(status);
            }
          }
        } else if (!exited && info.ssi_code != SI_KERNEL) {
          ::kill(pid, signo);
        }
      }
    }
  }
  if (!exited) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.durationNs = clock.monotonicNs() - start;
    result.endTimeNs = clock.nowNs();
    if (WIFSIGNALED(status)) {
      result.signal = WTERMSIG(status);
      result.status = 128 + WTERMSIG(status);
    } else {
      result.exitCode = WEXITSTATUS(status);
      result.status = WEXITSTATUS(status);
    }
  }
  ::sigaction(SIGPIPE, &oldPipe, nullptr);
  pool.release(chunk.data);
  return result;
}

}  // namespace octolaunch::agent
