#include "collector/cli/api_client.h"

#include <httplib.h>

#include <cctype>

namespace octolaunch::cli {

namespace {

ApiResponse toResponse(const httplib::Result& result, const std::string& url) {
  if (!result) {
    const char* why = "no answer";
    switch (result.error()) {
      case httplib::Error::Connection:
        why = "connection refused or no route";
        break;
      case httplib::Error::ConnectionTimeout:
        why = "connection timed out";
        break;
      case httplib::Error::Read:
        why = "no answer (read failed or timed out)";
        break;
      case httplib::Error::Write:
        why = "request could not be sent";
        break;
      default:
        why = "no answer";
        break;
    }
    throw Unreachable("cannot reach the collector at " + url + " (" + why + ", " +
                      httplib::to_string(result.error()) + ")");
  }
  ApiResponse response{result->status, nlohmann::json::parse(result->body, nullptr, false)};
  if (response.body.is_discarded()) response.body = {{"error", result->body}};
  return response;
}

}  // namespace

std::string pathSegment(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string ApiResponse::error() const {
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return body["error"].get<std::string>();
  }
  return "HTTP " + std::to_string(status);
}

ApiClient::ApiClient(std::string url, std::string token, std::chrono::milliseconds timeout)
    : url_(std::move(url)), token_(std::move(token)) {
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
  if (url_.rfind("http://", 0) != 0 && url_.rfind("https://", 0) != 0) {
    throw std::invalid_argument("--url: expected http://HOST:PORT, got \"" + url_ + "\"");
  }
  client_ = std::make_unique<httplib::Client>(url_);
  if (!client_->is_valid()) throw std::invalid_argument("--url: cannot use \"" + url_ + "\"");
  client_->set_connection_timeout(timeout);
  client_->set_read_timeout(timeout);
  client_->set_write_timeout(timeout);
  if (!token_.empty()) client_->set_bearer_token_auth(token_);
}

ApiClient::~ApiClient() = default;

ApiResponse ApiClient::get(const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& params) {
  httplib::Params p;
  for (const auto& [k, v] : params) p.emplace(k, v);
  return toResponse(client_->Get(path, p, httplib::Headers{}), url_);
}

ApiResponse ApiClient::post(const std::string& path, const nlohmann::json& body) {
  return toResponse(client_->Post(path, body.dump(), "application/json"), url_);
}

}  // namespace octolaunch::cli
