// End-to-end harness: a temp dir, the real octolaunch-collector and octolaunch-agent binaries on
// loopback (port 0), and a small JSON-over-HTTP client for the collector's API.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait.h"

namespace octolaunch::testing {

// Directory of the built executables (<build>/bin), from the build.
std::string binDir();
std::string binPath(const std::string& name);

// A running collector. start() waits for its "listening" lines.
class CollectorProcess final {
 public:
  struct Options {
    std::filesystem::path dataDir;
    int rpcPort = 0;  // 0: any free port
    int httpPort = 0;
    std::vector<std::string> extraArgs;
    std::string config = "/dev/null";  // --config
    // --rpc-open (agents without credentials accepted), unless extraArgs has --agent-token.
    bool openIngest = true;
  };
  explicit CollectorProcess(Options options);
  ~CollectorProcess();

  // Starts (or restarts on the same ports after the first start). Throws on failure.
  void start();
  void kill9();
  // SIGTERM and wait; returns the exit code.
  int stop();
  bool running();
  pid_t pid() const;  // -1 before start()

  int rpcPort() const { return rpcPort_; }
  int httpPort() const { return httpPort_; }
  std::string rpcAddress() const { return "127.0.0.1:" + std::to_string(rpcPort_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(httpPort_); }

 private:
  Options options_;
  int rpcPort_;
  int httpPort_;
  std::unique_ptr<Process> process_;
};

struct HttpResult {
  int status = 0;  // 0 when the collector was unreachable
  nlohmann::json body;
  std::string raw;
};
HttpResult httpGet(int port, const std::string& path);
HttpResult httpPost(int port, const std::string& path, const std::string& body);

// All events matching the query string (e.g. "release=r42&kind=hook.output"), following
// next_cursor page by page.
std::vector<nlohmann::json> allEvents(int port, const std::string& query);

// Common agent flags for a test agent with its own identity and spool.
std::vector<std::string> agentFlags(const std::filesystem::path& spoolDir,
                                    const std::string& agentId, const std::string& host,
                                    const std::string& collectorAddr);

}  // namespace octolaunch::testing
