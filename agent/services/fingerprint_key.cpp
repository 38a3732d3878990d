#include "agent/services/fingerprint_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>

#include "shared/util/random_bytes.h"
#include "shared/util/sha256.h"

namespace octolaunch::services {

namespace {

// Feeds a file to `update` in 64 KiB pieces. False (and *error) when it cannot be read.
bool readFileInPieces(const std::filesystem::path& path, std::string* error,
                      const std::function<void(const char*, std::size_t)>& update) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) {
      std::error_code ec;
      *error = std::filesystem::exists(path, ec)
                   ? "cannot read " + path.string() + ": " + std::strerror(errno)
                   : "no such file: " + path.string();
    }
    return false;
  }
  std::array<char, 65536> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) {
    if (error) *error = "read error on " + path.string();
    return false;
  }
  return true;
}

std::string trimmed(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  std::size_t start = s.find_first_not_of(" \t\r\n");
  return start == std::string::npos ? std::string() : s.substr(start);
}

std::string readKeyFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read fingerprint key file " + path.string() + ": " +
                             std::strerror(errno));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = trimmed(std::move(text));
  if (text.size() < 16) {
    throw std::runtime_error("fingerprint key file " + path.string() +
                             " holds fewer than 16 characters: not a usable key");
  }
  return text;
}

// Creates path with a fresh random key unless it exists. Returns true when this call created it.
bool createKeyFile(const std::filesystem::path& path) {
  std::array<std::uint8_t, 32> random{};
  try {
    fillRandom(random.data(), random.size());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("cannot make a fingerprint key: ") + e.what());
  }
  const std::string text = toHex(random.data(), random.size()) + "\n";
  std::string tmp = path.string() + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot create fingerprint key in " + path.parent_path().string() +
                             ": " + std::strerror(errno));
  const bool written = ::fchmod(fd, 0640) == 0 &&
                       ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write fingerprint key " + tmp);
  }
  // link() fails with EEXIST when another process made the key first: theirs wins.
  const int rc = ::link(tmp.c_str(), path.c_str());
  const int linkErrno = errno;
  ::unlink(tmp.c_str());
  if (rc == 0) return true;
  if (linkErrno == EEXIST) return false;
  throw std::runtime_error("cannot create fingerprint key " + path.string() + ": " +
                           std::strerror(linkErrno));
}

}  // namespace

FingerprintKey::FingerprintKey(std::string key) : key_(std::move(key)) {
  // A domain prefix of its own: the id is no hash the key is used for elsewhere.
  Sha256 hash;
  static constexpr char kDomain[] = "octolaunch fingerprint key id";
  hash.update(kDomain, sizeof(kDomain));  // with its NUL: the prefix ends where the key starts
  hash.update(key_);
  id_ = toHex(hash.finish()).substr(0, 16);
}

std::string FingerprintKey::hmacHex(std::string_view data) const {
  HmacSha256 hmac(key_);
  hmac.update(data);
  return toHex(hmac.finish());
}

std::optional<std::string> FingerprintKey::hmacFileHex(const std::filesystem::path& path,
                                                       std::string* error) const {
  HmacSha256 hmac(key_);
  if (!readFileInPieces(path, error,
                        [&](const char* data, std::size_t size) { hmac.update(data, size); })) {
    return std::nullopt;
  }
  return toHex(hmac.finish());
}

std::optional<std::string> sha256FileHex(const std::filesystem::path& path, std::string* error) {
  Sha256 hash;
  if (!readFileInPieces(path, error,
                        [&](const char* data, std::size_t size) { hash.update(data, size); })) {
    return std::nullopt;
  }
  return toHex(hash.finish());
}

LoadedFingerprintKey loadFingerprintKey(const FingerprintSettings& settings,
                                        const std::filesystem::path& spoolDir) {
  if (settings.key) return {FingerprintKey(*settings.key), "config", std::nullopt};
  if (settings.keyFile)
    return {FingerprintKey(readKeyFile(*settings.keyFile)), settings.keyFile->string(),
            std::nullopt};
  const std::filesystem::path path = spoolDir / "fingerprint.key";
  std::error_code ec;
  bool created = false;
  if (!std::filesystem::exists(path, ec)) created = createKeyFile(path);
  std::string warning =
      std::string(created ? "generated a per-host fingerprint key in "
                          : "using the per-host fingerprint key in ") +
      path.string() +
      ": config and dependency fingerprints can be compared across hosts only when every "
      "host has the same key; set [fingerprint] key_file to one shared key";
  return {FingerprintKey(readKeyFile(path)), path.string(), std::move(warning), created};
}

bool needsFingerprintKey(const ServiceConfig& service) {
  return !service.configFiles.empty() || !service.env.empty() ||
         !service.dependencyManifests.empty() || !service.dependencyCommands.empty();
}

std::optional<std::string> perHostKeyWarning(const ServicesConfig& services,
                                             const std::filesystem::path& spoolDir) {
  if (services.fingerprint.key || services.fingerprint.keyFile) return std::nullopt;
  if (std::none_of(services.services.begin(), services.services.end(), needsFingerprintKey))
    return std::nullopt;
  return "no [fingerprint] key or key_file: config and dependency fingerprints use a per-host key "
         "in " +
         (spoolDir / "fingerprint.key").string() + " and cannot be compared across hosts";
}

}  // namespace octolaunch::services
