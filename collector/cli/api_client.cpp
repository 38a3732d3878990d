#include "collector/cli/api_client.h"

#include <httplib.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cctype>
#include <map>

namespace octolaunch::cli {

namespace {

// Why no HTTP answer came, in words.
std::string noAnswerReason(httplib::Error error, const httplib::Client& client) {
  if (error == httplib::Error::SSLServerVerification) {
    return std::string("certificate verify failed: ") +
           X509_verify_cert_error_string(client.get_openssl_verify_result()) +
           "; trust a private CA with --ca-file or OCTOLAUNCH_CA_FILE";
  }
  static const std::map<httplib::Error, const char*> kReasons = {
      {httplib::Error::SSLConnection,
       "TLS handshake failed (does the collector serve https on this port?)"},
      {httplib::Error::SSLLoadingCerts, "cannot load the trusted certificates (--ca-file)"},
      {httplib::Error::Connection, "connection refused or no route"},
      {httplib::Error::ConnectionTimeout, "connection timed out"},
      {httplib::Error::Read, "no answer (read failed or timed out)"},
      {httplib::Error::Write, "request could not be sent"}};
  const auto found = kReasons.find(error);
  return found == kReasons.end() ? "no answer" : found->second;
}

ApiResponse toResponse(const httplib::Result& result, const httplib::Client& client,
                       const std::string& url) {
  if (!result) {
    const std::string why = noAnswerReason(result.error(), client);
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

ApiClient::ApiClient(std::string url, std::string token, std::chrono::milliseconds timeout,
                     const std::string& caFile)
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
  client_->enable_server_certificate_verification(true);
  if (!caFile.empty()) {
    if (::access(caFile.c_str(), R_OK) != 0) {
      throw std::invalid_argument("--ca-file: cannot read \"" + caFile + "\"");
    }
    client_->set_ca_cert_path(caFile);
  }
}

ApiClient::~ApiClient() = default;

ApiResponse ApiClient::get(const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& params) {
  httplib::Params p;
  for (const auto& [k, v] : params) p.emplace(k, v);
  return toResponse(client_->Get(path, p, httplib::Headers{}), *client_, url_);
}

ApiResponse ApiClient::post(const std::string& path, const nlohmann::json& body) {
  return toResponse(client_->Post(path, body.dump(), "application/json"), *client_, url_);
}

}  // namespace octolaunch::cli
