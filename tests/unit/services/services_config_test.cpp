#include "agent/services/services_config.h"

#include <gtest/gtest.h>

namespace octolaunch::services {
namespace {

ServicesConfig parse(std::string_view text) { return parseServicesConfig(toml::parse(text)); }

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

TEST(ServicesConfig, ErrorsNameTheKey) {
  EXPECT_EQ(errorOf(R"([service.api]
health = [{ type = "http", url = "http://x/" }, { type = "ftp" }])"),
            "service.api.health[1].type: expected one of http, tcp, command, got \"ftp\"");
  EXPECT_EQ(errorOf("[service.api]\nhealth = [{ url = \"http://x/\" }]"),
            "service.api.health[0].type: required (a non-empty string)");
  EXPECT_EQ(errorOf("[service.api]\nunits = \"api.service\"\nconfig_files = [\"/etc/a\", 3]"),
            "service.api.config_files[1]: expected a string, got integer");
  EXPECT_EQ(errorOf("[service.api]\nconfig_files = [\"etc/a\"]"),
            "service.api.config_files: expected an absolute path, got \"etc/a\"");
  EXPECT_EQ(errorOf("[service.api]\nenv = [\"DATABASE_URL=postgres://\"]"),
            "service.api.env[0]: expected a variable NAME (values are never written in the "
            "config), got one "
            "with '='");
  EXPECT_EQ(errorOf("[service.api]\nhealth = [{ type = \"http\", url = \"https://x/\" }]"),
            "service.api.health[0].url: expected http://HOST[:PORT][/PATH], got \"https://x/\" "
            "(https is not "
            "supported)");
  EXPECT_EQ(errorOf("[service.api]\nhealth = [{ type = \"http\", url = \"http://x/\", "
                    "expect_status = 700 }]"),
            "service.api.health[0].expect_status: value 700 out of range (100..599)");
  EXPECT_EQ(
      errorOf("[service.api]\nhealth = [{ type = \"tcp\", address = \"localhost\" }]"),
      "service.api.health[0].address: expected HOST:PORT, got \"localhost\" (no host or port)");
  EXPECT_EQ(errorOf("[service.api]\nhealth_interval_seconds = \"60\""),
            "service.api.health_interval_seconds: expected a number, got string");
  EXPECT_EQ(
      errorOf("[service.\"a/b\"]\nunits = []"),
      "service.a/b: a service name may hold only letters, digits and . _ @ - (it names a file)");
  EXPECT_EQ(errorOf("service = 3"),
            "service: expected a table of [service.NAME] tables, got integer");
  EXPECT_EQ(
      errorOf("[fingerprint]\nkey = \"short\""),
      "fingerprint.key: too short: use at least 16 characters (32 random bytes, hex, is best)");
  EXPECT_EQ(errorOf("[fingerprint]\nkey_file = \"key\""),
            "fingerprint.key_file: expected an absolute path, got \"key\"");
}

TEST(ServicesConfig, UnknownKeysAreWarnings) {
  auto config = parse(
      "[service.api]\nunitz = []\nhealth = [{ type = \"tcp\", address = \"h:1\", url = \"x\" }]");
  ASSERT_EQ(config.warnings.size(), 2u);
  EXPECT_EQ(config.warnings[0], "unknown key service.api.health[0].url (ignored)");
  EXPECT_EQ(config.warnings[1], "unknown key service.api.unitz (ignored)");
}

TEST(ServicesConfig, FractionalSecondsForShortIntervals) {
  auto config =
      parse("[service.api]\nhealth_watch_interval_seconds = 0.05\nhealth_interval_seconds = 2");
  EXPECT_EQ(config.services[0].healthWatchInterval, std::chrono::milliseconds(50));
  EXPECT_EQ(config.services[0].healthInterval, std::chrono::milliseconds(2000));
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
