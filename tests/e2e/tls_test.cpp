// Encryption on the real binaries: agents ship over TLS (and refuse a collector they cannot
// verify), client certificates when the collector requires them, the CLI over https, plaintext
// beyond loopback only when configured, and bytes that are not TLS dropped without harm.
// Certificates are made at test time with the openssl command.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/support/harness.h"
#include "tests/support/process.h"
#include "tests/support/raw_http.h"

namespace octolaunch::testing {
namespace {

using namespace std::chrono_literals;

// A CA and the certificates it issued, in dir: NAME.pem and NAME.key.
class TestPki final {
 public:
  explicit TestPki(const std::filesystem::path& dir) : dir_(dir) {}

  // A self-signed CA.
  void authority(const std::string& name) {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "2", "-subj", "/CN=" + name, "-keyout", key(name), "-out", pem(name)});
  }
  // A certificate for localhost and 127.0.0.1 (common name cn) issued by ca.
  void issue(const std::string& name, const std::string& ca, const std::string& cn) {
    const std::string csr = (dir_ / (name + ".csr")).string();
    const std::string ext = (dir_ / (name + ".ext")).string();
    std::ofstream(ext) << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-subj", "/CN=" + cn, "-keyout", key(name), "-out", csr});
    openssl({"x509", "-req", "-in", csr, "-CA", pem(ca), "-CAkey", key(ca), "-CAcreateserial",
             "-days", "2", "-extfile", ext, "-out", pem(name)});
  }
  std::string pem(const std::string& name) const { return (dir_ / (name + ".pem")).string(); }
  std::string key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }

 private:
  static void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    RunResult r = run(args, 60s);
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  std::filesystem::path dir_;
};

// A collector with TLS on RPC, its certificate issued by "ca"; "other-ca" issued nothing it trusts.
struct TlsSetup {
  // clientCa: agents must present a certificate issued by ca.
  explicit TlsSetup(const std::string& extraRpc = "", bool clientCa = false) {
    pki.authority("ca");
    pki.authority("other-ca");
    pki.issue("server", "ca", "collector");
    std::ofstream config(dir / "collector.toml");
    config << "[rpc]\ncert_file = \"" << pki.pem("server") << "\"\nkey_file = \""
           << pki.key("server") << "\"\n"
           << extraRpc;
    if (clientCa) config << "client_ca_file = \"" << pki.pem("ca") << "\"\n";
    config.close();
    collector.start();
  }

  // An agent config trusting `ca`, checking the name localhost, with extra [ship] lines.
  std::string agentConfig(const std::string& name, const std::string& ca,
                          const std::string& extraShip = "") {
    const std::filesystem::path path = dir / (name + ".toml");
    std::ofstream(path) << "[sources]\nenabled = false\n[ship]\ntls = true\nca_file = \""
                        << pki.pem(ca) << "\"\nserver_name = \"localhost\"\n"
                        << extraShip;
    return path.string();
  }
  std::vector<std::string> agentArgs(const std::string& command, const std::string& id,
                                     const std::string& config) {
    std::vector<std::string> argv = {binPath("octolaunch-agent")};
    // One directory per machine: the agent socket and fallback queue sit beside the spool.
    std::filesystem::create_directories(dir / id);
    auto f = agentFlags(dir / id / "spool", id, "web-" + id, collector.rpcAddress());
    f[1] = config;  // --config
    argv.insert(argv.end(), f.begin(), f.end());
    argv.push_back(command);
    return argv;
  }
  // Records one hook (two events: its output line and its exit) for release into id's spool.
  void hook(const std::string& id, const std::string& config, const std::string& release) {
    auto argv = agentArgs("hook", id, config);
    for (const char* a : {"--release", release.c_str(), "--service", "api", "--phase", "migrate",
                          "--", "echo", "migrated"})
      argv.push_back(a);
    RunResult r = run(argv, 60s);
    ASSERT_EQ(r.exitCode, 0) << r.err;
  }
  std::unique_ptr<Process> startAgent(const std::string& id, const std::string& config) {
    return std::make_unique<Process>(ProcessOptions{
        .argv = agentArgs("run", id, config), .captureStdout = true, .captureStderr = true});
  }
  std::size_t stored(const std::string& release) {
    return allEvents(collector.httpPort(), "release=" + release).size();
  }

  TempDir dir;
  TestPki pki{dir.path()};
  CollectorProcess collector{
      {.dataDir = dir / "collector", .config = (dir / "collector.toml").string()}};
};

// Reads the agent's output until its log holds text.
bool logged(Process& agent, const std::string& text, std::chrono::milliseconds timeout) {
  return waitUntil(
      [&] {
        agent.readAllStdout(50ms);
        return agent.stderrText().find(text) != std::string::npos;
      },
      timeout);
}

TEST(Tls, AgentShipsOverTlsAndPlaintextBytesAreDropped) {
  TlsSetup s;
  // Bytes that are not TLS: the connection is closed, nothing else happens.
  int raw = connectTo(s.collector.rpcPort());
  ASSERT_GE(raw, 0);
  const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\nnot a TLS record at all";
  ASSERT_EQ(::send(raw, garbage.data(), garbage.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(garbage.size()));
  EXPECT_TRUE(closedByPeer(raw, 10s));
  ::close(raw);

  const std::string config = s.agentConfig("a1", "ca");
  s.hook("a1", config, "r1");
  auto agent = s.startAgent("a1", config);
  ASSERT_TRUE(waitUntil([&] { return s.stored("r1") == 2; }, 30s))
      << "stored " << s.stored("r1") << "\n"
      << agent->stderrText();
  EXPECT_TRUE(s.collector.running());
}

TEST(Tls, AgentThatCannotVerifyTheCollectorSendsNothing) {
  TlsSetup s;
  const std::string config = s.agentConfig("a2", "other-ca");
  s.hook("a2", config, "r2");
  auto agent = s.startAgent("a2", config);
  ASSERT_TRUE(logged(*agent, "certificate verify failed: ", 30s)) << agent->stderrText();
  // It keeps retrying (with backoff) and never falls back to plaintext.
  EXPECT_TRUE(logged(*agent, "retrying with backoff", 5s)) << agent->stderrText();
  EXPECT_EQ(s.stored("r2"), 0u);
  EXPECT_TRUE(agent->running());

  // The name is checked too: a certificate of the right CA for another name is refused.
  const std::string wrongName = (s.dir / "a3.toml").string();
  std::ofstream(wrongName) << "[sources]\nenabled = false\n[ship]\ntls = true\nca_file = \""
                           << s.pki.pem("ca") << "\"\nserver_name = \"collector.example\"\n";
  s.hook("a3", wrongName, "r3");
  auto misnamed = s.startAgent("a3", wrongName);
  ASSERT_TRUE(logged(*misnamed, "certificate verify failed: ", 30s)) << misnamed->stderrText();
  EXPECT_EQ(s.stored("r3"), 0u);
}

TEST(Tls, ClientCertificatesWhenTheCollectorRequiresThem) {
  TlsSetup s("", true);
  s.pki.issue("agent-cert", "ca", "web-a5");
  s.pki.issue("stranger-cert", "other-ca", "web-a6");

  auto certificate = [&s](const std::string& name) {
    return "cert_file = \"" + s.pki.pem(name) + "\"\nkey_file = \"" + s.pki.key(name) + "\"\n";
  };
  // Records a hook for release r<id> and starts the agent that ships it.
  auto agentWith = [&s](const std::string& id, const std::string& shipLines) {
    const std::string config = s.agentConfig("a" + id, "ca", shipLines);
    s.hook("a" + id, config, "r" + id);
    return s.startAgent("a" + id, config);
  };
  auto bare = agentWith("4", "");
  ASSERT_TRUE(logged(*bare, "cannot ship to collector", 30s)) << bare->stderrText();
  auto foreign = agentWith("6", certificate("stranger-cert"));
  ASSERT_TRUE(logged(*foreign, "cannot ship to collector", 30s)) << foreign->stderrText();

  auto agent = agentWith("5", certificate("agent-cert"));
  ASSERT_TRUE(waitUntil([&] { return s.stored("r5") == 2; }, 30s)) << agent->stderrText();
  EXPECT_EQ(s.stored("r4"), 0u);
  EXPECT_EQ(s.stored("r6"), 0u);
}

TEST(Tls, CliOverHttpsWithCaFile) {
  TempDir d;
  TestPki pki(d.path());
  pki.authority("ca");
  pki.issue("server", "ca", "collector");
  std::ofstream(d / "collector.toml") << "[http]\ncert_file = \"" << pki.pem("server")
                                      << "\"\nkey_file = \"" << pki.key("server") << "\"\n";
  CollectorProcess collector{{.dataDir = d / "data", .config = (d / "collector.toml").string()}};
  collector.start();
  const std::string url = "https://127.0.0.1:" + std::to_string(collector.httpPort());
  const std::string cli = binPath("octolaunch");

  RunResult trusted = run({cli, "--url", url, "--ca-file", pki.pem("ca"), "releases"}, 30s);
  EXPECT_EQ(trusted.exitCode, 0) << trusted.err;
  RunResult fromEnv =
      run({cli, "--url", url, "--json", "releases"}, 30s, {"OCTOLAUNCH_CA_FILE=" + pki.pem("ca")});
  EXPECT_EQ(fromEnv.exitCode, 0) << fromEnv.err;
  EXPECT_NE(fromEnv.out.find("releases"), std::string::npos) << fromEnv.out;

  RunResult untrusted = run({cli, "--url", url, "releases"}, 30s);
  EXPECT_NE(untrusted.exitCode, 0);
  EXPECT_NE(untrusted.err.find("certificate verify failed"), std::string::npos) << untrusted.err;
  EXPECT_NE(untrusted.err.find("--ca-file"), std::string::npos) << untrusted.err;

  // Plain HTTP to the https port gets no answer (and the collector carries on).
  EXPECT_EQ(parseReply(exchange(collector.httpPort(), getRequest("/healthz"), 10s)).status, 0);
  EXPECT_TRUE(collector.running());
}

TEST(Tls, PlaintextBeyondLoopbackOnlyWhenConfigured) {
  TempDir d;
  const std::string empty = (d / "empty.toml").string();
  std::ofstream(empty) << "";
  auto collectorArgs = [&](const std::string& config) {
    return std::vector<std::string>{binPath("octolaunch-collector"),
                                    "--config",
                                    config,
                                    "--data-dir",
                                    (d / "data").string(),
                                    "--rpc-listen",
                                    "0.0.0.0:0",
                                    "--http-listen",
                                    "127.0.0.1:0"};
  };
  RunResult refused = run(collectorArgs(empty), 30s);
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_NE(refused.err.find("[rpc] plaintext = true"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("cert_file"), std::string::npos) << refused.err;

  const std::string open = (d / "open.toml").string();
  std::ofstream(open) << "[rpc]\nplaintext = true\n";
  Process collector({.argv = collectorArgs(open), .captureStderr = true});
  ASSERT_TRUE(collector.waitForLine("http listening on ", 20s)) << collector.stderrText();
  collector.readAllStdout(200ms);
  EXPECT_NE(collector.stderrText().find("[rpc] plaintext"), std::string::npos)
      << collector.stderrText();
}

TEST(Tls, UnusableCertificateFilesStopTheCollector) {
  TempDir d;
  TestPki pki(d.path());
  pki.authority("ca");
  pki.authority("other");
  auto start = [&](const std::string& cert, const std::string& key) {
    const std::string config = (d / "c.toml").string();
    std::ofstream(config) << "[rpc]\ncert_file = \"" << cert << "\"\nkey_file = \"" << key
                          << "\"\n";
    return run(
        {binPath("octolaunch-collector"), "--config", config, "--data-dir", (d / "data").string(),
         "--rpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"},
        30s);
  };
  const std::string missing = (d / "missing.pem").string();
  RunResult unreadable = start(missing, pki.key("ca"));
  EXPECT_EQ(unreadable.exitCode, 1);
  EXPECT_NE(unreadable.err.find("[rpc] cert_file " + missing), std::string::npos) << unreadable.err;

  RunResult mismatched = start(pki.pem("ca"), pki.key("other"));
  EXPECT_EQ(mismatched.exitCode, 1);
  EXPECT_NE(mismatched.err.find("[rpc] key_file " + pki.key("other") + ": does not match"),
            std::string::npos)
      << mismatched.err;

  // The agent checks its client certificate files the same way (here with --check-config).
  const std::string agentConfig = (d / "agent.toml").string();
  std::ofstream(agentConfig) << "[ship]\ntls = true\ncert_file = \"" << pki.pem("ca")
                             << "\"\nkey_file = \"" << pki.key("other") << "\"\n";
  RunResult agent =
      run({binPath("octolaunch-agent"), "--config", agentConfig, "run", "--check-config"}, 30s);
  EXPECT_EQ(agent.exitCode, 1);
  EXPECT_NE(agent.err.find("[ship] key_file " + pki.key("other") + ": does not match"),
            std::string::npos)
      << agent.err;
}

TEST(Tls, StalledHandshakeIsCutByTheHelloDeadline) {
  TlsSetup s("hello_timeout_ms = 1000\n");
  int silent = connectTo(s.collector.rpcPort());
  ASSERT_GE(silent, 0);
  // Half a ClientHello record header, then nothing.
  const char partial[] = {0x16, 0x03, 0x01};
  ASSERT_EQ(::send(silent, partial, sizeof partial, MSG_NOSIGNAL), 3);
  const auto began = std::chrono::steady_clock::now();
  EXPECT_TRUE(closedByPeer(silent, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
  ::close(silent);
  // The close can reach us before the collector's loop has counted the cut: poll the counter.
  HttpResult metrics;
  const bool counted = waitUntil(
      [&] {
        metrics = httpGet(s.collector.httpPort(), "/metrics");
        return metrics.raw.find(
                   "octolaunch_ingest_connections_cut_total{reason=\"hello_timeout\"} 1") !=
               std::string::npos;
      },
      5s);
  EXPECT_TRUE(counted) << metrics.raw;
}

}  // namespace
}  // namespace octolaunch::testing
