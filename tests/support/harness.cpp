#include "tests/support/harness.h"

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <thread>

namespace octolaunch::testing {

std::string binDir() { return OCTOLAUNCH_BIN_DIR; }
std::string binPath(const std::string& name) { return binDir() + "/" + name; }

CollectorProcess::CollectorProcess(Options options)
    : options_(std::move(options)), rpcPort_(options_.rpcPort), httpPort_(options_.httpPort) {}

CollectorProcess::~CollectorProcess() {
  if (process_ && process_->running()) stop();
}

namespace {
int portOf(const std::string& line) {
  auto colon = line.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("no port in: " + line);
  return std::stoi(line.substr(colon + 1));
}
}  // namespace

void CollectorProcess::start() {
  std::vector<std::string> argv = {binPath("octolaunch-collector"),
                                   "--config",
                                   options_.config,
                                   "--data-dir",
                                   options_.dataDir.string(),
                                   "--rpc-listen",
                                   "127.0.0.1:" + std::to_string(rpcPort_),
                                   "--http-listen",
                                   "127.0.0.1:" + std::to_string(httpPort_)};
  argv.insert(argv.end(), options_.extraArgs.begin(), options_.extraArgs.end());
  if (options_.openIngest && std::find(argv.begin(), argv.end(), "--agent-token") == argv.end()) {
    argv.push_back("--rpc-open");
  }
  // A just-killed collector's port can take a moment to be free again: retry a few times.
  for (int attempt = 0; attempt < 50; ++attempt) {
    process_ = std::make_unique<Process>(ProcessOptions{.argv = argv});
    auto rpc = process_->waitForLine("rpc listening on ", std::chrono::seconds(10));
    auto http =
        rpc ? process_->waitForLine("http listening on ", std::chrono::seconds(10)) : std::nullopt;
    if (rpc && http) {
      rpcPort_ = portOf(*rpc);
      httpPort_ = portOf(*http);
      return;
    }
    process_->kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // back off before rebinding
  }
  throw std::runtime_error("octolaunch-collector did not start");
}

void CollectorProcess::kill9() {
  if (process_) process_->kill9();
}

int CollectorProcess::stop() {
  if (!process_) return -1;
  process_->signal(SIGTERM);
  auto st = process_->wait(std::chrono::seconds(10));
  if (!st) {
    process_->kill9();
    return -1;
  }
  return exitCodeOf(*st);
}

bool CollectorProcess::running() { return process_ && process_->running(); }

pid_t CollectorProcess::pid() const { return process_ ? process_->pid() : -1; }

namespace {
HttpResult toResult(const httplib::Result& res) {
  HttpResult r;
  if (!res) return r;
  r.status = res->status;
  r.raw = res->body;
  r.body = nlohmann::json::parse(res->body, nullptr, false);
  return r;
}
}  // namespace

HttpResult httpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(30);
  return toResult(client.Get(path.c_str()));
}

HttpResult httpPost(int port, const std::string& path, const std::string& body) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(30);
  return toResult(client.Post(path.c_str(), body, "application/json"));
}

std::vector<nlohmann::json> allEvents(int port, const std::string& query) {
  std::vector<nlohmann::json> out;
  std::string cursor;
  while (true) {
    std::string path = "/api/v1/events?limit=10000&" + query;
    if (!cursor.empty()) path += "&cursor=" + httplib::detail::encode_query_param(cursor);
    HttpResult r = httpGet(port, path);
    if (r.status != 200 || !r.body.is_object() || !r.body["events"].is_array()) {
      throw std::runtime_error("GET " + path + " failed: " + std::to_string(r.status) + " " +
                               r.raw);
    }
    for (auto& e : r.body["events"]) out.push_back(std::move(e));
    if (!r.body.contains("next_cursor") || r.body["next_cursor"].is_null()) break;
    cursor = r.body["next_cursor"].get<std::string>();
  }
  return out;
}

std::vector<std::string> agentFlags(const std::filesystem::path& spoolDir,
                                    const std::string& agentId, const std::string& host,
                                    const std::string& collectorAddr) {
  return {"--config", "/dev/null", "--spool-dir", spoolDir.string(), "--agent-id",
          agentId,    "--host",    host,          "--collector",     collectorAddr};
}

}  // namespace octolaunch::testing
