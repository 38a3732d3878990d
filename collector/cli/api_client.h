// The CLI's view of the collector's HTTP API: JSON in, JSON out.
//
// Contract
//  * get/post return the status and the parsed JSON body for every HTTP answer (2xx and 4xx/5xx);
//    a body that is not JSON becomes {"error": "<body text>"}.
//  * They throw Unreachable (naming the URL) when no HTTP answer came: refused, timed out, DNS,
//    or a TLS failure ("certificate verify failed: <reason>", with a hint at --ca-file).
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace httplib {
class Client;
}

namespace octolaunch::cli {

class Unreachable final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ApiResponse {
  int status = 0;
  nlohmann::json body;
  bool ok() const { return status >= 200 && status < 300; }
  // body["error"] when present, else "HTTP <status>".
  std::string error() const;
};

// Percent-encodes text for use as one URL path segment (everything but unreserved characters).
std::string pathSegment(const std::string& text);

class ApiClient final {
 public:
  // url: "http://HOST:PORT" or "https://HOST:PORT" (the certificate is verified against the
  // system's trust store, or caFile when not empty). token: sent as a bearer token when not
  // empty. Throws std::invalid_argument for a malformed URL or a caFile that cannot be read.
  ApiClient(std::string url, std::string token,
            std::chrono::milliseconds timeout = std::chrono::seconds(10),
            const std::string& caFile = {});
  ~ApiClient();

  ApiResponse get(const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& params = {});
  ApiResponse post(const std::string& path, const nlohmann::json& body);
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::string token_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace octolaunch::cli
