#include "collector/config/collector_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace octolaunch::collector {
namespace {

std::string errorOf(std::string_view text) {
  try {
    parseCollectorConfig(text, "collector.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(CollectorConfig, EmptyFileGivesTheDocumentedDefaults) {
  CollectorConfig c = parseCollectorConfig("", "collector.toml");
  EXPECT_EQ(c.store.dataDir, "/var/lib/octolaunch-collector");
  EXPECT_EQ(c.store.mapSize, std::size_t{8} << 30);
  EXPECT_EQ(c.rpc.listen, "127.0.0.1:7701");
  EXPECT_EQ(c.http.listen, "127.0.0.1:7702");
  EXPECT_TRUE(c.rpc.tokens.empty());
}

// The file we ship spells out every default: it must parse to exactly the defaults.
TEST(CollectorConfig, ShippedFileParsesToTheDefaults) {
  const auto path =
      std::filesystem::path(OCTOLAUNCH_SOURCE_DIR) / "packaging/config/collector.toml";
  CollectorConfig shipped = loadCollectorConfig(path, true);
  CollectorConfig defaults;
  EXPECT_EQ(shipped.store.dataDir, defaults.store.dataDir);
  EXPECT_EQ(shipped.store.mapSize, defaults.store.mapSize);
  EXPECT_EQ(shipped.rpc.listen, defaults.rpc.listen);
  EXPECT_EQ(shipped.rpc.maxMessageBytes, defaults.rpc.maxMessageBytes);
  EXPECT_EQ(shipped.rpc.flowLimitBytes, defaults.rpc.flowLimitBytes);
  EXPECT_EQ(shipped.rpc.maxBatchEvents, defaults.rpc.maxBatchEvents);
  EXPECT_EQ(shipped.http.threads, defaults.http.threads);
  EXPECT_EQ(shipped.http.maxBodyBytes, defaults.http.maxBodyBytes);
  EXPECT_EQ(shipped.logLevel, defaults.logLevel);
  EXPECT_EQ(shipped.retention.enabled, defaults.retention.enabled);
  EXPECT_EQ(shipped.retention.maxAgeDays, defaults.retention.maxAgeDays);
  EXPECT_EQ(shipped.retention.failedReleaseDays, defaults.retention.failedReleaseDays);
  EXPECT_EQ(shipped.retention.maxSizeBytes, defaults.retention.maxSizeBytes);
  EXPECT_EQ(shipped.retention.intervalSeconds, defaults.retention.intervalSeconds);
  EXPECT_EQ(shipped.retention.batchEvents, defaults.retention.batchEvents);
}

TEST(CollectorConfig, RetentionKeepsEvidenceLongerAndCapsBelowTheMap) {
  CollectorConfig defaults = parseCollectorConfig("", "collector.toml");
  EXPECT_TRUE(defaults.retention.enabled);
  EXPECT_EQ(defaults.retention.maxAgeDays, 30u);
  EXPECT_EQ(defaults.retention.failedReleaseDays, 180u);
  EXPECT_EQ(defaults.retention.sizeCap(defaults.store.mapSize), (std::size_t{8} << 30) / 10 * 9);
  CollectorConfig c = parseCollectorConfig(
      "[store]\nmap_size = \"4GiB\"\n[retention]\nmax_age_days = 7\nfailed_release_days = "
      "90\nmax_size = \"3GiB\"\ninterval_seconds = 60\nbatch_events = 500\n",
      "collector.toml");
  EXPECT_EQ(c.retention.maxAgeDays, 7u);
  EXPECT_EQ(c.retention.failedReleaseDays, 90u);
  EXPECT_EQ(c.retention.sizeCap(c.store.mapSize), std::size_t{3} << 30);
  EXPECT_EQ(c.retention.intervalSeconds, 60u);
  EXPECT_EQ(c.retention.batchEvents, 500u);
  EXPECT_EQ(errorOf("[retention]\nmax_age_days = 200\n"),
            "collector.toml:1: retention.failed_release_days: must be at least max_age_days (200): "
            "a failed release's evidence is kept longer than routine data");
  EXPECT_EQ(errorOf("[store]\nmap_size = \"1GiB\"\n[retention]\nmax_size = \"2GiB\"\n"),
            "collector.toml:4: retention.max_size: must not exceed [store] map_size (1073741824 "
            "bytes)");
  EXPECT_EQ(errorOf("[retention]\nmax_age_days = 0\n"),
            "collector.toml:2: retention.max_age_days: must be between 1 and 36500, got 0");
}

TEST(CollectorConfig, ValuesAreRead) {
  CollectorConfig c = parseCollectorConfig(R"(
[store]
data_dir = "/srv/ol"
map_size = 1073741824
[rpc]
listen = "0.0.0.0:0"
tokens = ["a", "b"]
[http]
listen = "[::1]:8080"
threads = 2
)",
                                           "collector.toml");
  EXPECT_EQ(c.store.dataDir, "/srv/ol");
  EXPECT_EQ(c.store.mapSize, std::size_t{1} << 30);
  EXPECT_EQ(c.rpc.listen, "0.0.0.0:0");
  EXPECT_EQ(c.rpc.tokens, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.http.listen, "[::1]:8080");
  EXPECT_EQ(c.http.threads, 2u);
}

TEST(CollectorConfig, BadValuesNameFileLineAndKey) {
  EXPECT_EQ(errorOf("[store]\nmap_size = \"lots\"\n"),
            "collector.toml:2: store.map_size: expected a size such as 8GiB or an integer of "
            "bytes");
  EXPECT_EQ(errorOf("[store]\nmap_size = \"10KiB\"\n"),
            "collector.toml:2: store.map_size: must be at least 1048576 bytes");
  EXPECT_EQ(errorOf("[rpc]\ntokens = \"secret\"\n"),
            "collector.toml:2: rpc.tokens: expected an array of strings, got a string");
  EXPECT_EQ(errorOf("[rpc]\ntokens = [\"a\", 3]\n"),
            "collector.toml:2: rpc.tokens[1]: expected a string, got an integer");
  EXPECT_EQ(errorOf("[rpc]\nlisten = \"localhost\"\n"),
            "collector.toml:2: rpc.listen: expected HOST:PORT (port 0 to 65535), got "
            "\"localhost\"");
  EXPECT_EQ(errorOf("[http]\nlisten = \"127.0.0.1:70000\"\n"),
            "collector.toml:2: http.listen: expected HOST:PORT (port 0 to 65535), got "
            "\"127.0.0.1:70000\"");
  EXPECT_EQ(errorOf("[http]\nthreads = 0\n"),
            "collector.toml:2: http.threads: must be between 1 and 256, got 0");
  EXPECT_EQ(errorOf("[http]\nthreads = \"four\"\n"),
            "collector.toml:2: http.threads: expected an integer, got a string");
  EXPECT_EQ(errorOf("store = 3\n"), "collector.toml:1: store: expected a table, got an integer");
  EXPECT_EQ(errorOf("[log]\nlevel = \"loud\"\n"),
            "collector.toml:2: log.level: expected one of trace, debug, info, warn, error, "
            "critical, off, got \"loud\"");
}

TEST(CollectorConfig, SyntaxErrorsNameFileAndLine) {
  const std::string e = errorOf("[store]\nmap_size = \n");
  EXPECT_EQ(e.rfind("collector.toml:2:", 0), 0u) << e;
}

TEST(CollectorConfig, UnknownKeysAreErrors) {
  EXPECT_EQ(errorOf("[rpc]\ntoken = [\"a\"]\n"),
            "collector.toml:2: rpc.token: unknown key; did you mean `tokens`?");
  // [analysis] is another reader's: left to it, and kept for it.
  CollectorConfig c = parseCollectorConfig("[analysis]\ngrace = 3\n", "collector.toml");
  EXPECT_TRUE(c.raw.contains("analysis"));
}

TEST(CollectorConfig, MissingFiles) {
  const auto missing = std::filesystem::temp_directory_path() / "octolaunch-no-such-collector.toml";
  EXPECT_NO_THROW(loadCollectorConfig(missing, false));
  try {
    loadCollectorConfig(missing, true);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos);
  }
}

TEST(CollectorConfig, HttpTokensAreReadWithTheirScopes) {
  const auto dir = std::filesystem::temp_directory_path() / "octolaunch-http-token-file";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ci.token") << "from-a-file-0123456789\n";
  CollectorConfig c = parseCollectorConfig(
      "[http]\nallow_open = true\ntokens = [\n"
      "  { token = \"reader-0123456789\", scope = \"read\" },\n"
      "  { token_file = \"" +
          (dir / "ci.token").string() +
          "\", scope = \"write\" },\n"
          "  { token = \"admin-0123456789\", scope = \"admin\" },\n]\n",
      "collector.toml");
  std::filesystem::remove_all(dir);
  ASSERT_EQ(c.http.tokens.size(), 3u);
  EXPECT_EQ(c.http.tokens[0].token, "reader-0123456789");
  EXPECT_EQ(c.http.tokens[0].scope, http::Scope::read);
  EXPECT_EQ(c.http.tokens[1].token, "from-a-file-0123456789");
  EXPECT_EQ(c.http.tokens[1].scope, http::Scope::write);
  EXPECT_EQ(c.http.tokens[2].scope, http::Scope::admin);
  EXPECT_TRUE(c.http.allowOpen);
  EXPECT_TRUE(parseCollectorConfig("", "collector.toml").http.tokens.empty());
}

TEST(CollectorConfig, BadHttpTokensAreNamed) {
  EXPECT_EQ(errorOf("[http]\ntokens = [{ token = \"reader-0123456789\", scope = \"root\" }]\n"),
            "collector.toml:2: http.tokens[0].scope: expected read, write or admin, got \"root\"");
  EXPECT_EQ(errorOf("[http]\ntokens = [{ token = \"short\", scope = \"read\" }]\n"),
            "collector.toml:2: http.tokens[0].token: a token must have at least 16 characters");
  EXPECT_EQ(errorOf("[http]\ntokens = [{ token = \"\", scope = \"read\" }]\n"),
            "collector.toml:2: http.tokens[0].token: a token must have at least 16 characters");
  EXPECT_EQ(errorOf("[http]\ntokens = [{ scope = \"read\" }]\n"),
            "collector.toml:2: http.tokens[0].token: missing (token or token_file)");
  EXPECT_EQ(errorOf("[http]\ntokens = [{ token = \"reader-0123456789\" }]\n"),
            "collector.toml:2: http.tokens[0].scope: missing (read, write or admin)");
  EXPECT_EQ(errorOf("[http]\ntokens = [\n{ token = \"reader-0123456789\", scope = \"read\" },\n"
                    "{ token = \"reader-0123456789\", scope = \"write\" }]\n"),
            "collector.toml:4: http.tokens[1].token: the same token is listed twice");
  EXPECT_EQ(
      errorOf("[http]\ntokens = [{ token = \"reader-0123456789\", scope = \"read\", x = 1 }]\n"),
      "collector.toml:2: http.tokens[0].x: unknown key (expected token or token_file, and "
      "scope)");
  EXPECT_EQ(errorOf("[http]\ntokens = [\"reader-0123456789\"]\n"),
            "collector.toml:2: http.tokens[0]: expected a table { token = \"...\", scope = "
            "\"read\" }, got a string");
  EXPECT_NE(errorOf("[http]\ntokens = [{ token_file = \"/no/such/token\", scope = \"read\" }]\n")
                .find("http.tokens[0].token_file: cannot read \"/no/such/token\""),
            std::string::npos);
  EXPECT_EQ(errorOf("[http]\nallow_open = \"yes\"\n"),
            "collector.toml:2: http.allow_open: expected true or false, got a string");
}

TEST(CollectorConfig, WithoutHttpTokensTheApiStaysOnLoopback) {
  for (const char* host : {"127.0.0.1", "127.3.2.1", "localhost", "[::1]", "::1"}) {
    EXPECT_TRUE(isLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "10.0.0.1", "[::]", "127.0.0", "127.0.0.1.5", "127.a.0.1",
                           "128.0.0.1", "localhost.example.com", "127.0.0.256"}) {
    EXPECT_FALSE(isLoopbackHost(host)) << host;
  }
  HttpSettings http;
  EXPECT_FALSE(checkHttpExposure(http));  // the default 127.0.0.1:7702
  http.listen = "0.0.0.0:7702";
  try {
    checkHttpExposure(http);
    FAIL() << "an open listener without tokens was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not a loopback address"), std::string::npos);
  }
  http.allowOpen = true;
  EXPECT_TRUE(checkHttpExposure(http));  // open on purpose: the caller warns
  http.allowOpen = false;
  http.tokens.push_back({"reader-0123456789", http::Scope::read});
  EXPECT_FALSE(checkHttpExposure(http));
}

TEST(CollectorConfig, ByteSizesAndAddresses) {
  EXPECT_EQ(parseByteSize("8GiB"), std::size_t{8} << 30);
  EXPECT_EQ(parseByteSize("512 MiB"), std::size_t{512} << 20);
  EXPECT_EQ(parseByteSize("1GB"), std::size_t{1000'000'000});
  EXPECT_EQ(parseByteSize("4096"), 4096u);
  EXPECT_FALSE(parseByteSize("GiB"));
  EXPECT_FALSE(parseByteSize("-1"));
  EXPECT_FALSE(parseByteSize("1 PiB"));
  EXPECT_FALSE(parseByteSize("99999999999999GiB"));
  auto a = parseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 0);
  EXPECT_FALSE(parseListenAddress(":80"));
  EXPECT_FALSE(parseListenAddress("::1:80"));
  EXPECT_FALSE(parseListenAddress("host:8a"));
}

TEST(CollectorConfig, TlsKeysComeInPairsAndPlaintextOnlyWhenSaid) {
  EXPECT_NE(errorOf("[rpc]\ncert_file = \"/c.pem\"\n").find("rpc.cert_file"), std::string::npos);
  EXPECT_NE(errorOf("[http]\nkey_file = \"/k.pem\"\n").find("http.key_file"), std::string::npos);
  EXPECT_NE(errorOf("[rpc]\nclient_ca_file = \"/ca.pem\"\n").find("rpc.client_ca_file"),
            std::string::npos);
  EXPECT_NE(errorOf("[http]\nclient_ca_file = \"/ca.pem\"\n").find("unknown key"),
            std::string::npos);
  EXPECT_NE(errorOf("[rpc]\ncert_file = \"/c\"\nkey_file = \"/k\"\nplaintext = true\n")
                .find("rpc.plaintext"),
            std::string::npos);

  CollectorConfig c = parseCollectorConfig(
      "[rpc]\nlisten = \"0.0.0.0:7701\"\ncert_file = \"/c\"\nkey_file = \"/k\"\n"
      "client_ca_file = \"/ca\"\n[http]\nlisten = \"0.0.0.0:7702\"\nplaintext = true\n",
      "collector.toml");
  EXPECT_EQ(c.rpc.tls.clientCaFile, "/ca");
  EXPECT_FALSE(checkPlaintext("rpc", c.rpc.listen, c.rpc.tls, c.rpc.plaintext));
  EXPECT_TRUE(checkPlaintext("http", c.http.listen, c.http.tls, c.http.plaintext));
  EXPECT_FALSE(checkPlaintext("rpc", "127.0.0.1:7701", TlsSettings{}, false));
  try {
    checkPlaintext("rpc", "0.0.0.0:7701", TlsSettings{}, false);
    ADD_FAILURE() << "plaintext beyond loopback was allowed";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[rpc] plaintext = true"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace octolaunch::collector
