// Runs a command with its stdout and stderr on two pipes (not a pty, so the streams stay apart),
// passing both through to this process's stdout and stderr unchanged and as soon as they are
// read, while handing every chunk to an observer.
//
// Contract
//  * Same bytes, same order per stream. When writing to our stdout (or stderr) fails (EPIPE: the
//    reader went away), that pipe's read end is closed so the command sees EPIPE/SIGPIPE, as it
//    would have without the wrapper.
//  * SIGINT, SIGTERM and SIGHUP sent to this process are forwarded to the command. Signals the
//    terminal sends to the whole foreground process group (si_code SI_KERNEL) are not forwarded:
//    the command got them already.
//  * Returns when the command has exited and both pipes are at EOF, or `grace` after the command
//    exited when a background child still holds the pipes.
//  * The command's pid and cgroup are noted right after exec succeeded, before any output is read.
//  * exec failures come back through a close-on-exec pipe: 127 when the command is not found,
//    126 when it cannot be executed; ChildResult::execError says why.
//  * The caller must have blocked SIGINT, SIGTERM, SIGHUP and SIGCHLD in every thread
//    (blockHookSignals() before starting threads); the command starts with the mask restored.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/hook/chunk_pool.h"
#include "agent/hook/hook_recorder.h"
#include "shared/util/clock.h"

namespace octolaunch::agent {

struct ChildResult {
  int status = 0;               // what the wrapper exits with: code, 128+signal, 126, 127
  std::optional<int> exitCode;  // exactly one of exitCode / signal
  std::optional<int> signal;
  std::int64_t durationNs = 0;           // start to the command's exit
  std::int64_t endTimeNs = 0;            // wall clock at the command's exit
  std::optional<std::string> execError;  // "No such file or directory" when exec failed
  bool graceExpired = false;             // returned while a background child still held the pipes
  pid_t childPid = 0;                    // the command's pid; 0 when exec failed
  std::string cgroup;  // the command's cgroup right after exec (child_identity.h); "" if unknown
};

// One read from the command's stdout or stderr, in a ChunkPool buffer. The observer may take
// `data` (setting it to null; it then releases it to the pool when done): the next read goes into
// a fresh buffer, so output is never copied on its way to the recorder.
struct OutputChunk {
  char* data = nullptr;
  std::size_t size = 0;
};

using OutputObserver = std::function<void(HookStream, OutputChunk& chunk, std::int64_t timeNs)>;

// Blocks the signals the runner handles in the calling thread; returns the previous mask. Call
// it before starting any other thread.
sigset_t blockHookSignals();

// Throws std::runtime_error only BEFORE the command was started (no pipes, no fork): the caller
// may then run the command some other way. argv must not be empty. previousMask is what
// blockHookSignals() returned (given to the child).
ChildResult runChild(const std::vector<std::string>& argv, std::chrono::milliseconds grace,
                     const sigset_t& previousMask, const Clock& clock, ChunkPool& pool,
                     const OutputObserver& observer);

}  // namespace octolaunch::agent
