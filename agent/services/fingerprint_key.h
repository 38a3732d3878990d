// Keyed hashes of what a host runs (config files, environment values, dependency manifests), so
// hosts can be compared without the values ever leaving the host, and a short secret cannot be
// recovered by hashing guesses (the key stays on the hosts).
//
// Contract
//  * FingerprintKey::hmac*() return lower-case hex HMAC-SHA256 (64 digits); equal input and key
//    give equal output on every host, a different key gives a different output.
//  * FingerprintKey::id() names the key without revealing it: the first 16 hex digits of
//    SHA-256("octolaunch fingerprint key id\0" + key). Fingerprints carry it (keyId) so that only
//    those made with the same key are compared.
//  * loadFingerprintKey() takes [fingerprint] key, else key_file, else <spool dir>/fingerprint.key,
//    generating the last one (32 random bytes as hex, mode 0640) the first time; generation is
//    safe when several processes race (O_EXCL, the loser reads the winner's key). A generated key
//    is per host: the result says so in `warning`, since fleet-wide comparison needs one shared
//    key. Throws std::runtime_error naming the file when a key cannot be read or made.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "agent/services/services_config.h"

namespace octolaunch::services {

class FingerprintKey final {
 public:
  explicit FingerprintKey(std::string key);

  const std::string& id() const { return id_; }

  std::string hmacHex(std::string_view data) const;
  // HMAC of a file's contents, streamed; nullopt (and *error set) when it cannot be read.
  std::optional<std::string> hmacFileHex(const std::filesystem::path& path,
                                         std::string* error) const;

 private:
  std::string key_;
  std::string id_;
};

struct LoadedFingerprintKey {
  FingerprintKey key;
  std::string source;                  // "config", the key file path, or the generated file path
  std::optional<std::string> warning;  // set for a generated, per-host key
  bool generatedNow = false;           // this call created the per-host key file
};

LoadedFingerprintKey loadFingerprintKey(const FingerprintSettings& settings,
                                        const std::filesystem::path& spoolDir);

// Lower-case hex SHA-256 of a file's contents, streamed; nullopt (and *error set) when unreadable.
std::optional<std::string> sha256FileHex(const std::filesystem::path& path, std::string* error);

// Whether the service configures anything fingerprinted (config files, env, dependencies).
bool needsFingerprintKey(const ServiceConfig& service);
// The daemon's start-up warning when some service is fingerprinted but [fingerprint] names no
// shared key: the per-host key in <spool dir>/fingerprint.key makes hosts incomparable.
std::optional<std::string> perHostKeyWarning(const ServicesConfig& services,
                                             const std::filesystem::path& spoolDir);

}  // namespace octolaunch::services
