#include "agent/services/fingerprint_key.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>

namespace octolaunch::services {

namespace {

std::string toHex(const unsigned char* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

// Feeds a file to `update` in 64 KiB pieces. False (and *error) when it cannot be read.
bool readFileInPieces(const std::filesystem::path& path, std::string* error,
                      const std::function<void(const char*, std::size_t)>& update) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) {
      std::error_code ec;
      *error = std::filesystem::exists(path, ec) ? "cannot read " + path.string() + ": " + std::strerror(errno)
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

struct MacDeleter {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// HMAC-SHA256 through OpenSSL 3's EVP_MAC (HMAC_CTX is deprecated there).
class Hmac final {
 public:
  explicit Hmac(std::string_view key) {
    mac_.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac_) throw std::runtime_error("OpenSSL: HMAC unavailable");
    ctx_.reset(EVP_MAC_CTX_new(mac_.get()));
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx_ || EVP_MAC_init(ctx_.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                              params) != 1) {
      throw std::runtime_error("OpenSSL: HMAC-SHA256 init failed");
    }
  }
  void update(const char* data, std::size_t size) {
    if (EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(data), size) != 1) {
      throw std::runtime_error("OpenSSL: HMAC update failed");
    }
  }
  std::string finalHex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    std::size_t length = 0;
    if (EVP_MAC_final(ctx_.get(), out.data(), &length, out.size()) != 1) {
      throw std::runtime_error("OpenSSL: HMAC final failed");
    }
    return toHex(out.data(), length);
  }

 private:
  std::unique_ptr<EVP_MAC, MacDeleter> mac_;
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx_;
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t start = s.find_first_not_of(" \t\r\n");
  return start == std::string::npos ? std::string() : s.substr(start);
}

std::string readKeyFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read fingerprint key file " + path.string() + ": " + std::strerror(errno));
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
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), random.size()) != 1) throw std::runtime_error("OpenSSL: RAND_bytes failed");
  const std::string text = toHex(random.data(), random.size()) + "\n";
  std::string tmp = path.string() + ".tmp.XXXXXX";
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot create fingerprint key in " + path.parent_path().string() + ": " + std::strerror(errno));
  const bool written = ::fchmod(fd, 0640) == 0 &&
                       ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
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
  throw std::runtime_error("cannot create fingerprint key " + path.string() + ": " + std::strerror(linkErrno));
}

}  // namespace

std::string FingerprintKey::hmacHex(std::string_view data) const {
  Hmac hmac(key_);
  hmac.update(data.data(), data.size());
  return hmac.finalHex();
}

std::optional<std::string> FingerprintKey::hmacFileHex(const std::filesystem::path& path,
                                                       std::string* error) const {
  Hmac hmac(key_);
  if (!readFileInPieces(path, error, [&](const char* data, std::size_t size) { hmac.update(data, size); })) {
    return std::nullopt;
  }
  return hmac.finalHex();
}

std::optional<std::string> sha256FileHex(const std::filesystem::path& path, std::string* error) {
  std::unique_ptr<EVP_MD_CTX, MacDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: sha256 init failed");
  }
  bool ok = readFileInPieces(path, error, [&](const char* data, std::size_t size) {
    if (EVP_DigestUpdate(ctx.get(), data, size) != 1) throw std::runtime_error("OpenSSL: sha256 update failed");
  });
  if (!ok) return std::nullopt;
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &length) != 1) throw std::runtime_error("OpenSSL: sha256 final failed");
  return toHex(out.data(), length);
}

LoadedFingerprintKey loadFingerprintKey(const FingerprintSettings& settings,
                                        const std::filesystem::path& spoolDir) {
  if (settings.key) return {FingerprintKey(*settings.key), "config", std::nullopt};
  if (settings.keyFile) return {FingerprintKey(readKeyFile(*settings.keyFile)), settings.keyFile->string(), std::nullopt};
  const std::filesystem::path path = spoolDir / "fingerprint.key";
  std::error_code ec;
  bool created = false;
  if (!std::filesystem::exists(path, ec)) created = createKeyFile(path);
  std::string warning = std::string(created ? "generated a per-host fingerprint key in " : "using the per-host fingerprint key in ") +
                        path.string() +
                        ": config and dependency fingerprints can be compared across hosts only when every "
                        "host has the same key; set [fingerprint] key_file to one shared key";
  return {FingerprintKey(readKeyFile(path)), path.string(), std::move(warning), created};
}

}  // namespace octolaunch::services
