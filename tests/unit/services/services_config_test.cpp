#include "agent/services/services_config.h"

#include <gtest/gtest.h>

namespace octolaunch::services {
namespace {

ServicesConfig parse(std::string_view text,
                     config::Strictness strictness = config::Strictness::strict) {
  return parseServicesConfig(toml::parse(text, std::string_view("agent.toml")), strictness);
}

std::string errorOf(std::string_view text) {
  try {
    parse(text);
  } catch (const ServicesConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ServicesConfig, FullServiceWithDefaults) {
  auto config = parse(R"(
[fingerprint]
key = "0123456789abcdef0123"

[service.api]
units = ["api.service"]
containers = ["api"]
artifact = "/opt/api/api.tar.gz"
config_files = ["/etc/api/api.conf"]
env = ["DATABASE_URL", "API_TOKEN"]
env_file = "/etc/default/api"
dependency_manifests = ["/opt/api/package-lock.json"]
dependency_commands = ["dpkg -l"]
health = [{ type = "http", url = "http://127.0.0.1:8080/healthz", expect_status = 204, timeout_ms = 1500 },
          { type = "tcp", address = "127.0.0.1:5432" },
          { type = "command", command = "/usr/local/bin/check", timeout_ms = 3000 }]
health_watch_seconds = 120

[service.worker]
image = "registry.example/worker:2"
)");
  ASSERT_EQ(config.services.size(), 2u);
  EXPECT_EQ(config.fingerprint.key, "0123456789abcdef0123");
  const ServiceConfig* api = config.find("api");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->units, std::vector<std::string>{"api.service"});
  EXPECT_EQ(api->artifact, "/opt/api/api.tar.gz");
  EXPECT_EQ(api->env.size(), 2u);
  ASSERT_EQ(api->envFiles.size(), 1u);
  EXPECT_EQ(api->envFiles[0], "/etc/default/api");
  ASSERT_EQ(api->health.size(), 3u);
  EXPECT_EQ(api->health[0].type, ProbeType::http);
  EXPECT_EQ(api->health[0].expectStatus, 204u);
  EXPECT_EQ(api->health[0].timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(api->health[1].type, ProbeType::tcp);
  EXPECT_EQ(api->health[1].target(), "127.0.0.1:5432");
  EXPECT_EQ(api->health[1].timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(api->health[2].type, ProbeType::command);
  EXPECT_EQ(api->health[2].timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(api->healthWatch, std::chrono::seconds(120));
  EXPECT_EQ(api->healthWatchInterval, std::chrono::seconds(5));
  EXPECT_EQ(api->healthInterval, std::chrono::seconds(60));
  EXPECT_EQ(config.find("worker")->image, "registry.example/worker:2");
  EXPECT_EQ(config.find("nope"), nullptr);
  EXPECT_TRUE(config.warnings.empty());
}

TEST(ServicesConfig, NoServicesIsFine) {
  auto config = parse("collector = \"127.0.0.1:7701\"\n");
  EXPECT_TRUE(config.services.empty());
  EXPECT_FALSE(config.fingerprint.key);
}

TEST(ServicesConfig, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(errorOf(R"([service.api]
health = [{ type = "http", url = "http://x/" }, { type = "ftp" }])"),
            "agent.toml:2: service.api.health[1].type: expected one of http, tcp, command, got "
            "\"ftp\"");
  EXPECT_EQ(errorOf("[service.api]\nhealth = [{ url = \"http://x/\" }]"),
            "agent.toml:2: service.api.health[0].type: required (a non-empty string)");
  EXPECT_EQ(errorOf("[service.api]\nunits = \"api.service\"\nconfig_files = [\"/etc/a\", 3]"),
            "agent.toml:3: service.api.config_files[1]: expected a string, got an integer");
  EXPECT_EQ(errorOf("[service.api]\nconfig_files = [\"etc/a\"]"),
            "agent.toml:2: service.api.config_files: expected an absolute path, got \"etc/a\"");
  EXPECT_EQ(errorOf("[service.api]\nenv = [\"DATABASE_URL=postgres://\"]"),
            "agent.toml:2: service.api.env[0]: expected a variable NAME (values are never "
            "written in the config), got one with '='");
  EXPECT_EQ(errorOf("[service.api]\nhealth = [{ type = \"http\", url = \"https://x/\" }]"),
            "agent.toml:2: service.api.health[0].url: expected http://HOST[:PORT][/PATH], got "
            "\"https://x/\" (https is not supported)");
  EXPECT_EQ(errorOf("[service.api]\nhealth = [{ type = \"http\", url = \"http://x/\", "
                    "expect_status = 700 }]"),
            "agent.toml:2: service.api.health[0].expect_status: must be between 100 and 599, got "
            "700");
  EXPECT_EQ(errorOf("[service.api]\nhealth = [{ type = \"tcp\", address = \"localhost\" }]"),
            "agent.toml:2: service.api.health[0].address: expected HOST:PORT, got \"localhost\" "
            "(no host or port)");
  EXPECT_EQ(errorOf("[service.api]\nhealth_interval_seconds = \"60\""),
            "agent.toml:2: service.api.health_interval_seconds: expected a number, got a string");
  EXPECT_EQ(errorOf("[service.\"a/b\"]\nunits = []"),
            "agent.toml:1: service.a/b: a service name may hold only letters, digits and . _ @ - "
            "(it names a file)");
  EXPECT_EQ(errorOf("service = 3"), "agent.toml:1: service: expected a table, got an integer");
  EXPECT_EQ(errorOf("[fingerprint]\nkey = \"short\""),
            "agent.toml:2: fingerprint.key: too short: use at least 16 characters (32 random "
            "bytes, hex, is best)");
  EXPECT_EQ(errorOf("[fingerprint]\nkey_file = \"key\""),
            "agent.toml:2: fingerprint.key_file: expected an absolute path, got \"key\"");
}

TEST(ServicesConfig, UnknownKeysAreErrorsOrLenientlyWarnings) {
  const std::string text =
      "[service.api]\nunitz = []\nhealth = [{ type = \"tcp\", address = \"h:1\", url = \"x\" }]";
  EXPECT_EQ(errorOf(text),
            "agent.toml:2: service.api.unitz: unknown key; did you mean `units`?\n"
            "agent.toml:3: service.api.health[0].url: unknown key");
  auto config = parse(text, config::Strictness::lenient);
  ASSERT_EQ(config.warnings.size(), 2u);
  EXPECT_EQ(config.warnings[1], "agent.toml:3: service.api.health[0].url: unknown key");
  ASSERT_EQ(config.services.size(), 1u);
  EXPECT_EQ(config.services[0].health.size(), 1u);
}

TEST(ServicesConfig, FractionalSecondsForShortIntervals) {
  auto config =
      parse("[service.api]\nhealth_watch_interval_seconds = 0.05\nhealth_interval_seconds = 2");
  EXPECT_EQ(config.services[0].healthWatchInterval, std::chrono::milliseconds(50));
  EXPECT_EQ(config.services[0].healthInterval, std::chrono::milliseconds(2000));
}

TEST(ServicesConfig, RunAsDefaultsToCommandsAndAServiceMayOverrideIt) {
  auto config = parse(R"(
[commands]
run_as = "nobody"
[service.api]
health = [{ type = "command", command = "true" }, { type = "tcp", address = "127.0.0.1:1" }]
[service.db]
run_as = "postgres"
health = [{ type = "command", command = "pg_isready" }]
[service.own]
run_as = ""
)");
  EXPECT_EQ(config.runAs, "nobody");
  EXPECT_EQ(config.find("api")->runAs, "nobody");
  EXPECT_EQ(config.find("api")->health[0].runAs, "nobody");
  EXPECT_EQ(config.find("api")->health[1].runAs, "");  // only command probes run anything
  EXPECT_EQ(config.find("db")->runAs, "postgres");
  EXPECT_EQ(config.find("db")->health[0].runAs, "postgres");
  EXPECT_EQ(config.find("own")->runAs, "");  // the agent's own user
  EXPECT_EQ(parse("[service.api]").find("api")->runAs, "");
}

TEST(ServicesConfig, RunAsMustLookLikeAUser) {
  EXPECT_EQ(errorOf("[commands]\nrun_as = \"-u root\""),
            "agent.toml:2: commands.run_as: expected a user name or uid, got \"-u root\"");
  EXPECT_EQ(errorOf("[service.api]\nrun_as = 0"),
            "agent.toml:2: service.api.run_as: expected a string, got an integer");
  EXPECT_NE(errorOf("[commands]\nrun_az = \"nobody\"").find("did you mean `run_as`?"),
            std::string::npos);
}

TEST(HttpUrl, Parses) {
  auto url = parseHttpUrl("http://127.0.0.1:8080/healthz?full=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/healthz?full=1");
  url = parseHttpUrl("http://[::1]/");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 80);
  url = parseHttpUrl("http://api.internal");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->target, "/");
  EXPECT_FALSE(parseHttpUrl("https://x/"));
  EXPECT_FALSE(parseHttpUrl("http://:80/"));
  EXPECT_FALSE(parseHttpUrl("http://h:0/"));
  EXPECT_FALSE(parseHttpUrl("http://h:99999/"));
  EXPECT_FALSE(parseHttpUrl("http://user@h/"));
}

}  // namespace
}  // namespace octolaunch::services
