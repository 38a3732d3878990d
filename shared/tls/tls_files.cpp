#include "shared/tls/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

namespace octolaunch::tls {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string where(const PemFile& file) { return file.key + " " + file.path.string(); }

std::string readText(const PemFile& file) {
  std::ifstream in(file.path, std::ios::binary);
  if (!in) throw TlsSetupError(where(file) + ": cannot read it: " + std::strerror(errno));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::unique_ptr<BIO, decltype(&BIO_free)> memoryBio(const std::string& text) {
  return {BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free};
}

// Every certificate in the file, in order; at least one.
std::vector<X509Ptr> readCertificates(const PemFile& file, const std::string& text) {
  auto bio = memoryBio(text);
  std::vector<X509Ptr> certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(x);
  ERR_clear_error();  // the end of the file reads as an error
  if (certs.empty()) throw TlsSetupError(where(file) + ": no PEM certificate in it");
  return certs;
}

KeyPtr readKey(const PemFile& file, const std::string& text) {
  auto bio = memoryBio(text);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!key) {
    throw TlsSetupError(where(file) + ": no unencrypted PEM private key in it");
  }
  return key;
}

kj::TlsKeypair readKeypair(const PemFile& certFile, const PemFile& keyFile) {
  const std::string certText = readText(certFile);
  const std::string keyText = readText(keyFile);
  std::vector<X509Ptr> certs = readCertificates(certFile, certText);
  KeyPtr key = readKey(keyFile, keyText);
  if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
    ERR_clear_error();
    throw TlsSetupError(where(keyFile) + ": does not match the certificate in " + where(certFile));
  }
  return kj::TlsKeypair{kj::TlsPrivateKey(kj::StringPtr(keyText.c_str())),
                        kj::TlsCertificate(kj::StringPtr(certText.c_str()))};
}

// One kj certificate per CA in the file (kj trusts only the first of a chain).
kj::Array<kj::TlsCertificate> readTrusted(const PemFile& file) {
  std::vector<X509Ptr> certs = readCertificates(file, readText(file));
  auto trusted = kj::heapArrayBuilder<kj::TlsCertificate>(certs.size());
  for (const X509Ptr& cert : certs) {
    unsigned char* der = nullptr;
    const int length = i2d_X509(cert.get(), &der);
    if (length <= 0) throw TlsSetupError(where(file) + ": a certificate cannot be encoded");
    KJ_DEFER(OPENSSL_free(der));
    trusted.add(kj::arrayPtr(der, static_cast<std::size_t>(length)));
  }
  return trusted.finish();
}

}  // namespace

kj::Own<kj::TlsContext> makeServerTls(const ServerTlsFiles& files) {
  kj::TlsKeypair keypair = readKeypair(files.cert, files.key);
  kj::Array<kj::TlsCertificate> trusted;
  kj::TlsContext::Options options;
  options.useSystemTrustStore = false;
  options.defaultKeypair = keypair;
  if (files.clientCa) {
    trusted = readTrusted(*files.clientCa);
    options.trustedCertificates = trusted;
    options.verifyClients = true;
  }
  return kj::heap<kj::TlsContext>(kj::mv(options));
}

kj::Own<kj::TlsContext> makeClientTls(const ClientTlsFiles& files) {
  kj::Maybe<kj::TlsKeypair> keypair;
  if (files.cert && files.key) keypair = readKeypair(*files.cert, *files.key);
  kj::Array<kj::TlsCertificate> trusted;
  kj::TlsContext::Options options;
  if (files.ca) {
    trusted = readTrusted(*files.ca);
    options.trustedCertificates = trusted;
    options.useSystemTrustStore = false;
  }
  KJ_IF_MAYBE (pair, keypair) {
    options.defaultKeypair = *pair;
  }
  return kj::heap<kj::TlsContext>(kj::mv(options));
}

std::string tlsFailureText(const kj::Exception& e) {
  std::string text = e.getDescription().cStr();
  // kj: "OpenSSL error; message = error:0A0000C7:SSL routines::peer did not return a certificate"
  static constexpr std::string_view kRoutines = "routines::";
  if (const auto at = text.find(kRoutines); at != std::string::npos) {
    text = "TLS: " + text.substr(at + kRoutines.size());
    if (text.find("alert certificate required") != std::string::npos) {
      text += " (the collector requires a client certificate)";
    }
    return text;
  }
  // kj: "TLS peer's certificate is not trusted; reason = <X509_verify_cert_error_string>"
  static constexpr std::string_view kUntrusted = "certificate is not trusted";
  static constexpr std::string_view kReason = "reason = ";
  if (text.find(kUntrusted) == std::string::npos) return text;
  const auto reason = text.find(kReason);
  return "certificate verify failed: " +
         (reason == std::string::npos ? text : text.substr(reason + kReason.size()));
}

}  // namespace octolaunch::tls
