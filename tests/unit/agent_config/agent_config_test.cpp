#include "agent/config/agent_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace octolaunch::agent {
namespace {

using testing::TempDir;

std::string errorOf(std::string_view text) {
  try {
    parseAgentConfig(text, "agent.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(AgentConfig, DefaultsWhenEmpty) {
  AgentConfig c = parseAgentConfig("", "agent.toml");
  EXPECT_EQ(c.collector, "127.0.0.1:7701");
  EXPECT_EQ(c.spool.dir, "/var/lib/octolaunch-agent/spool");
  EXPECT_EQ(c.spool.maxBytes, 256u << 20);
  EXPECT_EQ(c.hook.graceSeconds, 5u);
  EXPECT_EQ(c.hook.tailLines, 20u);
  EXPECT_EQ(c.hook.maxLineBytes, 8192u);
  EXPECT_EQ(c.ship.batchMaxEvents, 2000u);
  EXPECT_EQ(c.ship.window, 4u);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(AgentConfig, ReadsEveryKey) {
  AgentConfig c = parseAgentConfig(R"(
agent_id = "a1"
host = "web-1"
token = "s3cret"
collector = "10.0.0.5:9000"
[spool]
dir = "/tmp/spool"
max_bytes = 10485760
[hook]
grace_seconds = 2
tail_lines = 5
max_line_bytes = 1024
[ship]
batch_max_events = 100
window = 2
backoff_max_ms = 5000
[sources.kmsg]
enabled = true
[service.api]
unit = "api.service"
)",
                                   "agent.toml");
  EXPECT_EQ(c.agentId, "a1");
  EXPECT_EQ(c.host, "web-1");
  EXPECT_EQ(c.token, "s3cret");
  EXPECT_EQ(c.collector, "10.0.0.5:9000");
  EXPECT_EQ(c.spool.dir, "/tmp/spool");
  EXPECT_EQ(c.spool.maxBytes, 10485760u);
  EXPECT_EQ(c.hook.graceSeconds, 2u);
  EXPECT_EQ(c.hook.tailLines, 5u);
  EXPECT_EQ(c.hook.maxLineBytes, 1024u);
  EXPECT_EQ(c.ship.batchMaxEvents, 100u);
  EXPECT_EQ(c.ship.window, 2u);
  EXPECT_EQ(c.ship.backoffMaxMs, 5000u);
  // Other components' sections stay available.
  EXPECT_EQ(c.raw["sources"]["kmsg"]["enabled"].value<bool>(), true);
  EXPECT_EQ(c.raw["service"]["api"]["unit"].value<std::string>(), "api.service");
  EXPECT_TRUE(c.warnings.empty());
}

TEST(AgentConfig, WrongTypeNamesFileLineAndKey) {
  EXPECT_EQ(errorOf("[spool]\nmax_bytes = \"big\"\n"),
            "agent.toml:2: spool.max_bytes: expected an integer, got a string");
  EXPECT_EQ(errorOf("collector = 7701\n"),
            "agent.toml:1: collector: expected a string, got an integer");
  EXPECT_EQ(errorOf("[hook]\ngrace_seconds = 1.5\n"),
            "agent.toml:2: hook.grace_seconds: expected an integer, got a float");
  EXPECT_EQ(errorOf("spool = 3\n"), "agent.toml:1: spool: expected a table, got an integer");
}

TEST(AgentConfig, OutOfRangeNamesKey) {
  EXPECT_EQ(errorOf("[ship]\nwindow = 0\n"),
            "agent.toml:2: ship.window: must be between 1 and 1024, got 0");
  EXPECT_NE(errorOf("[hook]\ntail_lines = -1\n").find("agent.toml:2: hook.tail_lines:"),
            std::string::npos);
}

TEST(AgentConfig, BadCollectorAddress) {
  EXPECT_NE(
      errorOf("collector = \"localhost\"\n").find("agent.toml:1: collector: expected HOST:PORT"),
      std::string::npos);
  EXPECT_NE(errorOf("collector = \"h:99999\"\n").find("bad port"), std::string::npos);
  EXPECT_EQ(splitHostPort("[::1]:7701", "x").first, "::1");
  EXPECT_EQ(splitHostPort("[::1]:7701", "x").second, 7701);
  EXPECT_THROW(splitHostPort("[::1:7701", "x"), ConfigError);
}

TEST(AgentConfig, SyntaxErrorNamesFileAndLine) {
  std::string e = errorOf("agent_id = \"a\"\nhost = \n");
  EXPECT_EQ(e.rfind("agent.toml:2:", 0), 0u) << e;
}

TEST(AgentConfig, UnknownKeysAreErrorsOrLenientlyWarnings) {
  const std::string text = "colector = \"x:1\"\n[spool]\nmaxbytes = 5\n";
  EXPECT_EQ(errorOf(text),
            "agent.toml:1: colector: unknown key; did you mean `collector`?\n"
            "agent.toml:3: spool.maxbytes: unknown key; did you mean `max_bytes`?");
  AgentConfig c = parseAgentConfig(text, "agent.toml", config::Strictness::lenient);
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_NE(c.warnings[0].find("colector"), std::string::npos);
  EXPECT_NE(c.warnings[1].find("spool.maxbytes"), std::string::npos);
}

TEST(AgentConfig, MissingExplicitFileIsAnError) {
  TempDir dir;
  EXPECT_THROW(loadAgentConfig(dir.path() / "nope.toml", {}), ConfigError);
}

TEST(AgentConfig, FileAndOverrides) {
  TempDir dir;
  auto file = dir.write("agent.toml", "collector = \"c:1\"\nhost = \"h\"\n[spool]\ndir = \"/x\"\n");
  ConfigOverrides o;
  o.spoolDir = "/y";
  o.token = "t";
  AgentConfig c = loadAgentConfig(file, o);
  EXPECT_EQ(c.collector, "c:1");
  EXPECT_EQ(c.host, "h");
  EXPECT_EQ(c.spool.dir, "/y");
  EXPECT_EQ(c.token, "t");
  EXPECT_EQ(c.file, file);
  o.collector = "nonsense";
  EXPECT_THROW(loadAgentConfig(file, o), ConfigError);
  // Leniently (hook, deploy), a bad flag is a warning and the file's value stays.
  c = loadAgentConfig(file, o, {}, config::Strictness::lenient);
  EXPECT_EQ(c.collector, "c:1");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0].rfind("--collector: expected HOST:PORT", 0), 0u) << c.warnings[0];
}

TEST(AgentConfig, AgentIdIsAHashOfMachineIdNeverTheRawId) {
  TempDir dir;
  const std::string raw = "0123456789abcdef0123456789abcdef";
  IdentitySources ids;
  ids.machineIdFile = dir.write("machine-id", raw + "\n");
  ids.hostname = "box";
  std::string id = defaultAgentId(ids);
  EXPECT_EQ(id, sha256Hex("octolaunch-agent:" + raw));
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id.find(raw), std::string::npos);
  // Known SHA-256 vector, so the hash really is SHA-256.
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  ids.machineIdFile = dir.path() / "missing";
  EXPECT_EQ(defaultAgentId(ids), sha256Hex("octolaunch-agent-host:box"));

  AgentConfig c = loadAgentConfig(dir.write("empty.toml", ""), {}, ids);
  EXPECT_EQ(c.agentId, sha256Hex("octolaunch-agent-host:box"));
  EXPECT_EQ(c.host, "box");
}

TEST(AgentConfig, TlsIsOnBeyondLoopbackUnlessSaidOtherwise) {
  AgentConfig c = parseAgentConfig("", "agent.toml");
  EXPECT_FALSE(shipTlsEnabled(c));  // 127.0.0.1:7701
  for (const char* loopback : {"localhost:7701", "[::1]:7701", "127.1.2.3:7701"}) {
    c.collector = loopback;
    EXPECT_FALSE(shipTlsEnabled(c)) << loopback;
  }
  c.collector = "collector.example:7701";
  EXPECT_TRUE(shipTlsEnabled(c));
  EXPECT_EQ(shipServerName(c), "collector.example");

  AgentConfig off =
      parseAgentConfig("collector = \"10.0.0.5:7701\"\n[ship]\ntls = false\n", "agent.toml");
  EXPECT_FALSE(shipTlsEnabled(off));
  AgentConfig on = parseAgentConfig(
      "[ship]\ntls = true\nserver_name = \"collector.internal\"\nca_file = \"/ca.pem\"\n",
      "agent.toml");
  EXPECT_TRUE(shipTlsEnabled(on));
  EXPECT_EQ(shipServerName(on), "collector.internal");
  EXPECT_NE(errorOf("[ship]\ncert_file = \"/a.pem\"\n").find("ship.cert_file"), std::string::npos);
}

}  // namespace
}  // namespace octolaunch::agent
