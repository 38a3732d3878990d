// The collector's configuration: one TOML file (default /etc/octolaunch/collector.toml) with
// command-line flags layered on top in main().
//
// Contract
//  * The collector is a daemon: it reads strictly (shared/config/toml_reader.h).
//  loadCollectorConfig()
//    returns a complete CollectorConfig (every key has a default) or throws ConfigError naming
//    file, line and key of every problem:
//      "collector.toml:5: store.map_size: expected a size such as 8GiB or an integer of bytes".
//  * A missing DEFAULT file is not an error (defaults apply); a missing EXPLICIT file is.
//  * Sections other components own ([analysis]) are left to them: CollectorConfig::raw keeps the
//    whole parsed table, and readCollectorConfig() lets them report into the same ConfigReport.
#pragma once

#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/config/http_options.h"
#include "shared/config/toml_reader.h"

namespace octolaunch::collector {

inline constexpr std::string_view kDefaultConfigPath = "/etc/octolaunch/collector.toml";
inline constexpr std::string_view kDefaultDataDir = "/var/lib/octolaunch-collector";
inline constexpr std::string_view kDefaultRpcListen = "127.0.0.1:7701";
inline constexpr std::string_view kDefaultHttpListen = "127.0.0.1:7702";

using ConfigError = config::ConfigError;

struct StoreSettings {
  std::filesystem::path dataDir{std::string(kDefaultDataDir)};
  std::size_t mapSize = std::size_t{8} << 30;
};

// [retention]: what a pass removes, and how often it runs (collector/retention/).
struct RetentionSettings {
  bool enabled = true;
  std::uint32_t maxAgeDays = 30;          // events older than this are removed
  std::uint32_t failedReleaseDays = 180;  // a failed release's evidence is kept this long
  std::size_t maxSizeBytes = 0;           // cap on the store's used bytes; 0: 90 % of map_size
  std::uint32_t intervalSeconds = 600;    // between two passes (the first one after this too)
  std::uint32_t batchEvents = 1000;       // events examined per write transaction
  // The cap a pass works to: maxSizeBytes, or 90 % of the map.
  std::size_t sizeCap(std::size_t mapSize) const {
    return maxSizeBytes != 0 ? maxSizeBytes : mapSize / 10 * 9;
  }
};

// A listener's TLS files (PEM); empty paths: no TLS. cert and key come together.
struct TlsSettings {
  std::filesystem::path certFile;
  std::filesystem::path keyFile;
  std::filesystem::path clientCaFile;  // [rpc] only: require client certificates from this CA
  bool enabled() const { return !certFile.empty(); }
};

struct RpcSettings {
  std::string listen{std::string(kDefaultRpcListen)};
  // Enrollment secrets: an agent presents one once for its own key (agent_access.h).
  std::vector<std::string> tokens;
  // Agents without credentials are accepted (loopback only: checkRpcExposure()).
  bool open = false;
  // An older agent that presents a secret as its token in every hello, without a key, is
  // accepted (while a fleet upgrades; it can claim any agent id that is not enrolled).
  bool acceptSharedTokens = false;
  // Largest message an agent may send (capnp traversal limit) and nesting depth.
  std::size_t maxMessageBytes = std::size_t{64} << 20;
  unsigned maxNesting = 16;
  // Unanswered call data per connection before the server stops reading (RpcSystem flow limit).
  std::size_t flowLimitBytes = std::size_t{32} << 20;
  // Most events one push() may carry.
  std::uint32_t maxBatchEvents = 100'000;
  // Connections open at once; more are closed at accept and counted as refused.
  std::uint32_t maxConnections = 2048;
  // Before its hello() is accepted a connection gets this long and this many bytes.
  std::uint32_t helloTimeoutMs = 10'000;
  std::size_t helloMaxBytes = std::size_t{64} << 10;
  // A connection with no message for this long is closed (agents send a keepalive every 60 s).
  std::uint32_t idleTimeoutMs = 300'000;
  // Answers queued for a peer that does not read them, before the connection is cut.
  std::size_t maxUnsentBytes = std::size_t{1} << 20;
  TlsSettings tls;
  // Set when the listener has no TLS and is not on loopback (checkPlaintext()).
  bool plaintext = false;
};

// The [http] limits are the server's own options (what each means:
// collector/config/http_options.h).
struct HttpSettings : http::HttpOptions {
  std::string listen{std::string(kDefaultHttpListen)};
  TlsSettings tls;
  bool plaintext = false;  // as [rpc] plaintext
};

struct CollectorConfig {
  StoreSettings store;
  RetentionSettings retention;
  RpcSettings rpc;
  HttpSettings http;
  std::string logLevel = "info";  // spdlog level name
  toml::table raw;
};

// path: the file; explicitPath false means the default location, which may be missing. Problems
// go to `report`.
CollectorConfig readCollectorConfig(const std::filesystem::path& path, bool explicitPath,
                                    config::ConfigReport& report);
// readCollectorConfig() strictly: throws ConfigError naming every problem.
CollectorConfig loadCollectorConfig(const std::filesystem::path& path, bool explicitPath);
// Parses TOML text strictly; name is the file name used in problems.
CollectorConfig parseCollectorConfig(std::string_view text, std::string_view name);

// "8GiB", "512 MiB", "64KiB", "1GB" (decimal), or digits (bytes). nullopt when malformed.
std::optional<std::size_t> parseByteSize(std::string_view text);

// "HOST:PORT" (IPv4 or name; "[v6]:PORT"). nullopt when malformed or the port is > 65535.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<ListenAddress> parseListenAddress(std::string_view text);

// host (as in ListenAddress, IPv6 possibly in brackets) is 127.0.0.0/8, ::1 or localhost.
bool isLoopbackHost(std::string_view host);

// The HTTP API without tokens must stay on loopback. Returns true when it is open beyond
// loopback because allow_open says so (the caller warns once); throws ConfigError when it would be
// open without allow_open.
bool checkHttpExposure(const HttpSettings& http);

// [rpc] open is allowed on loopback only: throws ConfigError when it is set with a listen
// address beyond loopback.
void checkRpcExposure(const RpcSettings& rpc);
// A listener without TLS must stay on loopback. Returns true when it serves plaintext beyond
// loopback because `plaintext = true` says so (the caller warns); throws ConfigError naming the
// keys to set when it would without it. section: "rpc" or "http".
bool checkPlaintext(std::string_view section, const std::string& listen, const TlsSettings& tls,
                    bool plaintext);

}  // namespace octolaunch::collector
