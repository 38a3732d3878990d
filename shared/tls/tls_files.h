// TLS contexts for the collector's listeners and the agent's connection, built from PEM files
// named in the configuration (kj::TlsContext over OpenSSL 3).
//
// Contract
//  * makeServerTls() / makeClientTls() read their files once and return a ready context, or throw
//    TlsSetupError whose message names the config key and the file and says what is wrong:
//    "[rpc] key_file /etc/x.key: does not match the certificate in [rpc] cert_file /etc/x.pem".
//    Checked: readable, PEM of the right kind, key and certificate belong together.
//  * A CA file may hold several certificates: each one is trusted.
//  * A context is immutable once built: any thread may wrap connections with it, one connection
//    per event loop (the collector builds both contexts on main's thread; HTTP uses its own on
//    the HTTP thread).
//  * Clients: kj verifies the server's certificate chain and its name; a failure breaks the
//    handshake before any application byte is sent. tlsFailureText() turns KJ's description of
//    it into "certificate verify failed: <OpenSSL's reason>".
#pragma once

#include <kj/compat/tls.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace octolaunch::tls {

class TlsSetupError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file named by a config key; `key` only names it in errors ("[rpc] cert_file").
struct PemFile {
  std::string key;
  std::filesystem::path path;
};

struct ServerTlsFiles {
  PemFile cert;  // leaf first, then intermediates
  PemFile key;
  // Set: clients must present a certificate issued by one of these CAs.
  std::optional<PemFile> clientCa;
};

struct ClientTlsFiles {
  std::optional<PemFile> ca;    // unset: the system's trust store
  std::optional<PemFile> cert;  // a client certificate (with key), for collectors that ask
  std::optional<PemFile> key;
};

kj::Own<kj::TlsContext> makeServerTls(const ServerTlsFiles& files);
kj::Own<kj::TlsContext> makeClientTls(const ClientTlsFiles& files);

// A TLS failure for a log line: a certificate the client did not trust becomes
// "certificate verify failed: <reason>", an OpenSSL error "TLS: <reason>"; anything else is KJ's
// description.
std::string tlsFailureText(const kj::Exception& e);

}  // namespace octolaunch::tls
