#include "collector/config/collector_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <iterator>
#include <map>

#include "shared/config/reload_scope.h"

namespace octolaunch::collector {

namespace {

using config::TableReader;

void readByteSize(TableReader& reader, std::string_view key, std::size_t& out, std::size_t min) {
  const toml::node* node = reader.node(key);
  if (node == nullptr) return;
  std::optional<std::size_t> value;
  if (node->is_integer() && node->as_integer()->get() >= 0) {
    value = static_cast<std::size_t>(node->as_integer()->get());
  } else if (node->is_string()) {
    value = parseByteSize(node->as_string()->get());
  }
  if (!value) {
    reader.reject(key, "expected a size such as 8GiB or an integer of bytes");
  } else if (*value < min) {
    reader.reject(key, "must be at least " + std::to_string(min) + " bytes");
  } else {
    out = *value;
  }
}

void readAddress(TableReader& reader, std::string_view key, std::string& out) {
  std::string value;
  if (!reader.read(key, value)) return;
  if (!parseListenAddress(value)) {
    reader.reject(key, "expected HOST:PORT (port 0 to 65535), got \"" + value + "\"");
    return;
  }
  out = value;
}

// cert_file, key_file (both or neither), client_ca_file where allowed, and plaintext.
void readTransport(TableReader& reader, TlsSettings& tls, bool& plaintext, bool clientCa) {
  reader.readNonEmpty("cert_file", tls.certFile);
  reader.readNonEmpty("key_file", tls.keyFile);
  if (clientCa) reader.readNonEmpty("client_ca_file", tls.clientCaFile);
  reader.read("plaintext", plaintext);
  if (tls.certFile.empty() != tls.keyFile.empty()) {
    reader.reject(tls.certFile.empty() ? "key_file" : "cert_file",
                  "TLS needs both cert_file and key_file");
  } else if (!tls.clientCaFile.empty() && tls.certFile.empty()) {
    reader.reject("client_ca_file", "client certificates need TLS: set cert_file and key_file");
  } else if (plaintext && tls.enabled()) {
    reader.reject("plaintext", "plaintext = true and cert_file contradict each other");
  }
}

constexpr std::size_t kMinHttpTokenLength = 16;

// token_file: the token is the file's whole text without trailing whitespace.
std::optional<std::string> readTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// [http] tokens = [{ token = "...", scope = "read" }, { token_file = "/path", scope = "write" }]
void readHttpTokens(TableReader& http, std::vector<http::HttpToken>& out) {
  const toml::node* node = http.node("tokens");
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    http.expected("tokens", "an array of { token = \"...\", scope = \"read\" } tables");
    return;
  }
  static const std::map<std::string, http::Scope> kScopes = {
      {"read", http::Scope::read}, {"write", http::Scope::write}, {"admin", http::Scope::admin}};
  std::vector<http::HttpToken> tokens;
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string key = "tokens[" + std::to_string(i) + "]";
    const toml::node& element = *array->get(i);
    const toml::table* entry = element.as_table();
    if (entry == nullptr) {
      http.expected(key, "a table { token = \"...\", scope = \"read\" }", &element);
      ok = false;
      continue;
    }
    std::optional<std::string> token;
    std::optional<std::string> scope;
    for (const auto& [name, value] : *entry) {
      const std::string field = key + "." + std::string(name.str());
      if (name.str() != "token" && name.str() != "token_file" && name.str() != "scope") {
        http.reject(field, "unknown key (expected token or token_file, and scope)", &value);
        ok = false;
      } else if (!value.is_string()) {
        http.expected(field, "a string", &value);
        ok = false;
      } else if (name.str() == "scope") {
        scope = value.as_string()->get();
      } else if (token) {
        http.reject(field, "give either token or token_file, not both", &value);
        ok = false;
      } else if (name.str() == "token") {
        token = value.as_string()->get();
      } else if (!(token = readTokenFile(value.as_string()->get()))) {
        http.reject(field, "cannot read \"" + value.as_string()->get() + "\"", &value);
        ok = false;
        token = "";
      }
    }
    if (!scope || !kScopes.count(*scope)) {
      http.reject(key + ".scope",
                  scope ? "expected read, write or admin, got \"" + *scope + "\""
                        : std::string("missing (read, write or admin)"),
                  &element);
      ok = false;
    }
    if (!token) {
      http.reject(key + ".token", "missing (token or token_file)", &element);
      ok = false;
    } else if (token->size() < kMinHttpTokenLength && ok) {
      http.reject(
          key + ".token",
          "a token must have at least " + std::to_string(kMinHttpTokenLength) + " characters",
          &element);
      ok = false;
    }
    if (!ok || !token || !scope) continue;
    for (const http::HttpToken& earlier : tokens) {
      if (earlier.token == *token) {
        http.reject(key + ".token", "the same token is listed twice", &element);
        ok = false;
      }
    }
    tokens.push_back({*token, kScopes.at(*scope)});
  }
  if (ok) out = std::move(tokens);
}

void readSections(const toml::table& document, CollectorConfig& config,
                  config::ConfigReport& report) {
  TableReader root(document, report);
  root.known({"analysis"});
  {
    TableReader store = root.section("store");
    store.readNonEmpty("data_dir", config.store.dataDir);
    readByteSize(store, "map_size", config.store.mapSize, std::size_t{1} << 20);
  }
  {
    TableReader retention = root.section("retention");
    RetentionSettings& r = config.retention;
    retention.read("enabled", r.enabled);
    retention.read("max_age_days", r.maxAgeDays, 1, 36500);
    retention.read("failed_release_days", r.failedReleaseDays, 1, 36500);
    readByteSize(retention, "max_size", r.maxSizeBytes, 0);
    retention.read("interval_seconds", r.intervalSeconds, 1, 86400);
    retention.read("batch_events", r.batchEvents, 1, 100000);
    if (r.failedReleaseDays < r.maxAgeDays) {
      retention.reject("failed_release_days",
                       "must be at least max_age_days (" + std::to_string(r.maxAgeDays) +
                           "): a failed release's evidence is kept longer than routine data");
    }
    if (r.maxSizeBytes != 0 && r.maxSizeBytes > config.store.mapSize) {
      retention.reject("max_size", "must not exceed [store] map_size (" +
                                       std::to_string(config.store.mapSize) + " bytes)");
    }
  }
  {
    TableReader rpc = root.section("rpc");
    readAddress(rpc, "listen", config.rpc.listen);
    std::vector<std::string> tokens;
    if (rpc.read("tokens", tokens)) {
      if (std::find(tokens.begin(), tokens.end(), "") != tokens.end()) {
        rpc.reject("tokens", "a token must not be empty");
      } else {
        config.rpc.tokens = std::move(tokens);
      }
    }
    rpc.read("open", config.rpc.open);
    rpc.read("accept_shared_tokens", config.rpc.acceptSharedTokens);
    readByteSize(rpc, "max_message_bytes", config.rpc.maxMessageBytes, 64 * 1024);
    rpc.read("max_nesting", config.rpc.maxNesting, 8, 64);
    readByteSize(rpc, "flow_limit_bytes", config.rpc.flowLimitBytes, 64 * 1024);
    rpc.read("max_batch_events", config.rpc.maxBatchEvents, 1, 1'000'000);
    rpc.read("max_connections", config.rpc.maxConnections, 1, 1'000'000);
    rpc.read("hello_timeout_ms", config.rpc.helloTimeoutMs, 100, 600'000);
    readByteSize(rpc, "hello_max_bytes", config.rpc.helloMaxBytes, 4096);
    rpc.read("idle_timeout_ms", config.rpc.idleTimeoutMs, 1000, 86'400'000);
    readByteSize(rpc, "max_unsent_bytes", config.rpc.maxUnsentBytes, 64 * 1024);
    readTransport(rpc, config.rpc.tls, config.rpc.plaintext, true);
  }
  {
    TableReader http = root.section("http");
    readAddress(http, "listen", config.http.listen);
    http.read("threads", config.http.threads, 1, 256);
    http.read("read_timeout_ms", config.http.readTimeoutMs, 1, 600'000);
    http.read("write_timeout_ms", config.http.writeTimeoutMs, 1, 600'000);
    http.read("keep_alive_timeout_ms", config.http.keepAliveTimeoutMs, 1, 600'000);
    readByteSize(http, "max_body_bytes", config.http.maxBodyBytes, 1024);
    http.read("header_timeout_ms", config.http.headerTimeoutMs, 1, 600'000);
    readByteSize(http, "min_body_bytes_per_second", config.http.minBodyBytesPerSecond, 0);
    http.read("max_connections", config.http.maxConnections, 1, 1'000'000);
    readHttpTokens(http, config.http.tokens);
    http.read("allow_open", config.http.allowOpen);
    readTransport(http, config.http.tls, config.http.plaintext, false);
  }
  {
    TableReader log = root.section("log");
    std::string level;
    if (log.read("level", level)) {
      if (!config::isLogLevelName(level)) {
        log.reject("level", "expected one of " + std::string(config::kLogLevelNames) + ", got \"" +
                                level + "\"");
      } else {
        config.logLevel = level;
      }
    }
  }
}

}  // namespace

std::optional<std::size_t> parseByteSize(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  struct Unit {
    std::string_view name;
    std::uint64_t factor;
  };
  static constexpr Unit kUnits[] = {{"", 1},
                                    {"B", 1},
                                    {"KiB", 1ull << 10},
                                    {"MiB", 1ull << 20},
                                    {"GiB", 1ull << 30},
                                    {"TiB", 1ull << 40},
                                    {"KB", 1000ull},
                                    {"MB", 1000'000ull},
                                    {"GB", 1000'000'000ull},
                                    {"TB", 1000'000'000'000ull}};
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      if (number > UINT64_MAX / u.factor) return std::nullopt;
      return static_cast<std::size_t>(number * u.factor);
    }
  }
  return std::nullopt;
}

std::optional<ListenAddress> parseListenAddress(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) return std::nullopt;
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(value)};
}

bool isLoopbackHost(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host == "::1") return true;
  if (host.substr(0, 4) != "127.") return false;
  // A dotted IPv4 address: four numbers 0-255.
  int parts = 0;
  std::string_view rest = host;
  while (!rest.empty() || parts == 0) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || end == rest.data() || value > 255) return false;
    ++parts;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    if (rest.empty()) break;
    if (rest.front() != '.') return false;
    rest.remove_prefix(1);
    if (rest.empty()) return false;
  }
  return parts == 4;
}

bool checkHttpExposure(const HttpSettings& http) {
  if (!http.tokens.empty()) return false;
  const std::optional<ListenAddress> address = parseListenAddress(http.listen);
  if (address && isLoopbackHost(address->host)) return false;
  if (http.allowOpen) return true;
  throw ConfigError("http.listen: " + http.listen +
                    " is not a loopback address and [http] tokens is empty: anyone who can "
                    "reach it could create releases; configure [http] tokens, listen on "
                    "127.0.0.1, or set [http] allow_open = true");
}

void checkRpcExposure(const RpcSettings& rpc) {
  if (!rpc.open) return;
  const std::optional<ListenAddress> address = parseListenAddress(rpc.listen);
  if (address && isLoopbackHost(address->host)) return;
  throw ConfigError(
      "rpc.open: agents without credentials are accepted on loopback only, and "
      "rpc.listen is " +
      rpc.listen + "; enroll agents with [rpc] tokens instead, or listen on 127.0.0.1");
}

bool checkPlaintext(std::string_view section, const std::string& listen, const TlsSettings& tls,
                    bool plaintext) {
  if (tls.enabled()) return false;
  const std::optional<ListenAddress> address = parseListenAddress(listen);
  if (address && isLoopbackHost(address->host)) return false;
  if (plaintext) return true;
  const std::string name(section);
  throw ConfigError(name + ".listen: " + listen + " is not a loopback address and [" + name +
                    "] has no TLS: set [" + name + "] cert_file and key_file, listen on " +
                    "127.0.0.1, or set [" + name + "] plaintext = true to send it unencrypted");
}

CollectorConfig readCollectorConfig(const std::filesystem::path& path, bool explicitPath,
                                    config::ConfigReport& report) {
  CollectorConfig config;
  if (auto document = config::readTomlFile(path, explicitPath, report)) {
    config.raw = std::move(*document);
    readSections(config.raw, config, report);
  }
  return config;
}

CollectorConfig loadCollectorConfig(const std::filesystem::path& path, bool explicitPath) {
  config::ConfigReport report;
  CollectorConfig config = readCollectorConfig(path, explicitPath, report);
  report.settle(config::Strictness::strict);
  return config;
}

CollectorConfig parseCollectorConfig(std::string_view text, std::string_view name) {
  config::ConfigReport report;
  CollectorConfig config;
  if (auto document = config::parseToml(text, name, report)) {
    config.raw = std::move(*document);
    readSections(config.raw, config, report);
  }
  report.settle(config::Strictness::strict);
  return config;
}

}  // namespace octolaunch::collector
