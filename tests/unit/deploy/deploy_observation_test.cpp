#include "agent/deploy/deploy_observation.h"

#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "agent/config/agent_config.h"
#include "agent/services/deploy_record.h"
#include "tests/support/fake_sink.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::deploy {
namespace {

using services::deploysDir;
using services::FingerprintKey;
using services::readDeployRecord;
using services::ServiceConfig;

using testing::FakeSink;
using testing::TempDir;

class FixedClock final : public Clock {
 public:
  std::int64_t nowNs() const override { return 1'700'000'000'000'000'000; }
  std::int64_t monotonicNs() const override { return 1; }
};

std::string sha256sum(const std::filesystem::path& file) {
  std::string out(64, '\0');
  FILE* pipe = ::popen(("sha256sum " + file.string()).c_str(), "r");
  if (pipe == nullptr || std::fread(out.data(), 1, 64, pipe) != 64) out.clear();
  if (pipe != nullptr) ::pclose(pipe);
  return out;
}

nlohmann::json entryNamed(const nlohmann::json& event, const std::string& name) {
  for (const auto& e : event["data"]["entries"]) {
    if (e["name"] == name) return e;
  }
  return nullptr;
}

constexpr const char* kSecret = "s3cr3t-db-password-value";

struct Fixture {
  TempDir dir;
  ServiceConfig service;
  FingerprintKey key{"fleet-key-0123456789abcdef"};
  ObserveOptions options;

  Fixture() {
    service.name = "api";
    service.artifact = dir.write("api.tar.gz", std::string(100000, 'a') + "end");
    service.configFiles = {dir.write("api.conf", std::string("password = ") + kSecret + "\n"),
                           dir.path() / "absent.conf"};
    service.envFiles = {dir.write(
        "default-api", std::string("DATABASE_URL='postgres://app:") + kSecret + "@db/app'\n")};
    service.env = {"DATABASE_URL", "API_MODE", "UNSET_VAR"};
    service.dependencyManifests = {dir.write("package-lock.json", "{\"lockfileVersion\": 3}\n")};
    service.dependencyCommands = {"printf 'ii  libc6 2.36\\n'",
                                  "echo " + std::string(kSecret) + "; exit 3"};
    options.release = "r42";
    options.processEnv = [](const std::string& name) -> std::optional<std::string> {
      if (name == "API_MODE") return "production";
      if (name == "DATABASE_URL") return "process-env-must-lose-to-env-file";
      return std::nullopt;
    };
  }

  std::vector<nlohmann::json> observe(std::vector<std::string>* notesOut = nullptr) {
    EventList events;
    std::vector<std::string> notes;
    FixedClock clock;
    observeDeploy(service, key, options, clock, events, notes);
    FakeSink sink;
    auto readers = events.readers();
    sink.append(readers);
    if (notesOut) *notesOut = notes;
    return sink.events();
  }
};

TEST(ObserveDeploy, ArtifactDigestEqualsSha256sum) {
  Fixture f;
  auto events = f.observe();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["kind"], "artifact.observed");
  EXPECT_EQ(events[0]["service"], "api");
  EXPECT_EQ(events[0]["release"], "r42");
  EXPECT_EQ(events[0]["data"]["path"], f.service.artifact.string());
  const std::string expected = sha256sum(f.service.artifact);
  ASSERT_EQ(expected.size(), 64u);
  EXPECT_EQ(events[0]["data"]["digest"], "sha256:" + expected);
}

TEST(ObserveDeploy, ConfigFingerprintPerFileAndEnvName) {
  Fixture f;
  std::vector<std::string> notes;
  auto events = f.observe(&notes);
  const auto& config = events[1];
  EXPECT_EQ(config["kind"], "config.fingerprint");
  ASSERT_EQ(config["data"]["entries"].size(), 5u);
  auto conf = entryNamed(config, f.service.configFiles[0].string());
  EXPECT_EQ(conf["kind"], "file");
  EXPECT_EQ(conf["hmac"], f.key.hmacHex(std::string("password = ") + kSecret + "\n"));
  EXPECT_EQ(entryNamed(config, f.service.configFiles[1].string())["hmac"], "missing");
  auto db = entryNamed(config, "DATABASE_URL");
  EXPECT_EQ(db["kind"], "env");
  EXPECT_EQ(db["hmac"],
            f.key.hmacHex(std::string("DATABASE_URL=postgres://app:") + kSecret + "@db/app"));
  EXPECT_EQ(entryNamed(config, "API_MODE")["hmac"], f.key.hmacHex("API_MODE=production"));
  EXPECT_EQ(entryNamed(config, "UNSET_VAR")["hmac"], "missing");
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("absent.conf"), std::string::npos);
}

TEST(ObserveDeploy, DependencyFingerprintPerManifestAndCommand) {
  Fixture f;
  auto events = f.observe();
  const auto& deps = events[2];
  EXPECT_EQ(deps["kind"], "dependency.fingerprint");
  ASSERT_EQ(deps["data"]["entries"].size(), 3u);
  EXPECT_EQ(entryNamed(deps, f.service.dependencyManifests[0].string())["hmac"],
            f.key.hmacHex("{\"lockfileVersion\": 3}\n"));
  auto dpkg = entryNamed(deps, "printf 'ii  libc6 2.36\\n'");
  EXPECT_EQ(dpkg["kind"], "command");
  EXPECT_EQ(dpkg["hmac"], f.key.hmacHex("ii  libc6 2.36\n"));
  EXPECT_EQ(entryNamed(deps, "echo " + std::string(kSecret) + "; exit 3")["hmac"], "failed");
}

TEST(ObserveDeploy, StableAcrossRunsAndKeyed) {
  Fixture f;
  auto first = f.observe();
  auto second = f.observe();
  EXPECT_EQ(first[1]["data"], second[1]["data"]);
  EXPECT_EQ(first[2]["data"], second[2]["data"]);
  // Both fingerprints name their key, so the collector compares only those with the same key.
  // printf 'octolaunch fingerprint key id\0fleet-key-0123456789abcdef' | sha256sum | cut -c1-16
  EXPECT_EQ(first[1]["data"]["key_id"], "af2cc53f5ab167d5");
  EXPECT_EQ(first[2]["data"]["key_id"], "af2cc53f5ab167d5");
  f.key = FingerprintKey("another-fleet-key-0123456789");
  auto rekeyed = f.observe();
  EXPECT_NE(entryNamed(first[1], "DATABASE_URL")["hmac"],
            entryNamed(rekeyed[1], "DATABASE_URL")["hmac"]);
  EXPECT_EQ(rekeyed[1]["data"]["key_id"], f.key.id());
  EXPECT_EQ(rekeyed[2]["data"]["key_id"], f.key.id());
  EXPECT_NE(rekeyed[1]["data"]["key_id"], first[1]["data"]["key_id"]);
  EXPECT_EQ(first[0]["data"]["digest"], rekeyed[0]["data"]["digest"]);  // plain sha256, not keyed
}

TEST(ObserveDeploy, RawValuesNeverAppearInTheEvents) {
  Fixture f;
  // The secret is a config file value, an env value and in a command's name — the one place a
  // value may appear is where the operator wrote it into the config (the command text).
  f.service.dependencyCommands = {"printf 'ii  libc6 2.36\\n'"};
  EventList events;
  std::vector<std::string> notes;
  FixedClock clock;
  observeDeploy(f.service, f.key, f.options, clock, events, notes);
  for (auto reader : events.readers()) {
    capnp::MallocMessageBuilder copy;
    copy.setRoot(reader);
    auto words = capnp::messageToFlatArray(copy);
    auto bytes = words.asBytes();
    std::string raw(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
    EXPECT_EQ(raw.find(kSecret), std::string::npos);
    EXPECT_EQ(raw.find("production"), std::string::npos);
    EXPECT_EQ(raw.find("password"), std::string::npos);
  }
}

TEST(ObserveDeploy, NothingConfiguredNothingObserved) {
  ServiceConfig bare;
  bare.name = "bare";
  EventList events;
  std::vector<std::string> notes;
  FixedClock clock;
  observeDeploy(bare, FingerprintKey("k0123456789abcdef"), {}, clock, events, notes);
  EXPECT_TRUE(events.empty());
}

TEST(ObserveDeploy, MissingArtifactGivesEmptyDigestAndNote) {
  Fixture f;
  f.service.artifact = f.dir.path() / "not-built.tar.gz";
  std::vector<std::string> notes;
  auto events = f.observe(&notes);
  EXPECT_EQ(events[0]["data"]["digest"], "");
  EXPECT_EQ(events[0]["data"]["path"], f.service.artifact.string());
  EXPECT_EQ(notes[0], "artifact: no such file: " + f.service.artifact.string());
}

TEST(ObserveForDeploy, AppendsToSinkWithGeneratedKeyAndWarns) {
  TempDir dir;
  auto artifact = dir.write("app.bin", "binary");
  auto conf = dir.write("app.conf", "x=1\n");
  auto config = agent::parseAgentConfig("[spool]\ndir = \"" + dir.path().string() +
                                            "\"\n[service.app]\nartifact = \"" + artifact.string() +
                                            "\"\nconfig_files = [\"" + conf.string() + "\"]\n",
                                        "agent.toml");
  FakeSink sink;
  FixedClock clock;
  auto result = observeForDeploy(config, "app", "r7", sink, clock);
  EXPECT_EQ(result.appended, 2u);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find("per-host fingerprint key"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "fingerprint.key"));
  auto events = sink.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["release"], "r7");
  EXPECT_EQ(events[1]["kind"], "config.fingerprint");
  std::string generated;
  std::ifstream(dir.path() / "fingerprint.key") >> generated;
  EXPECT_EQ(events[1]["data"]["key_id"], FingerprintKey(generated).id()) << "the generated key's";

  auto again = observeForDeploy(config, "app", "r8", sink, clock);
  EXPECT_EQ(again.appended, 2u);
  EXPECT_TRUE(again.warnings.empty()) << "the per-host key warning is given once, when it is made";
  events = sink.events();
  EXPECT_EQ(events[1]["data"], events[3]["data"]) << "same key and files: same fingerprint";

  EXPECT_EQ(observeForDeploy(config, "unconfigured", "r7", sink, clock).appended, 0u);
}

TEST(ObserveForDeploy, BadServiceConfigIsAWarningNotAThrow) {
  TempDir dir;
  auto config = agent::parseAgentConfig("[spool]\ndir = \"" + dir.path().string() +
                                            "\"\n[service.app]\nhealth = [{ type = \"ftp\" }]\n",
                                        "agent.toml");
  FakeSink sink;
  FixedClock clock;
  auto result = observeForDeploy(config, "app", "r7", sink, clock);
  EXPECT_EQ(result.appended, 0u);
  ASSERT_EQ(result.warnings.size(), 1u);
  // deploy reads leniently: the problem is a warning naming file, line and key.
  EXPECT_EQ(result.warnings[0],
            "agent.toml:4: service.app.health[0].type: expected one of http, tcp, command, got "
            "\"ftp\"");
}

TEST(DeployRecord, WrittenAtomicallyAndReadBack) {
  TempDir dir;
  auto config =
      agent::parseAgentConfig("[spool]\ndir = \"" + dir.path().string() + "\"\n", "agent.toml");
  FixedClock clock;
  EXPECT_FALSE(recordDeployFinish(config, "api", "r42", "ok", clock));
  std::string error;
  auto record = readDeployRecord(deploysDir(dir.path()) / "api", &error);
  ASSERT_TRUE(record) << error;
  EXPECT_EQ(record->service, "api");
  EXPECT_EQ(record->release, "r42");
  EXPECT_EQ(record->outcome, "ok");
  EXPECT_EQ(record->timeNs, clock.nowNs());
  // The daemon's alone (deploy users hand their markers over the agent socket).
  EXPECT_EQ(
      std::filesystem::status(deploysDir(dir.path())).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_all);
  // Only the record remains (the temporary file was renamed over it).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(deploysDir(dir.path())), {}), 1);
  dir.write("deploys/broken", "{not json");
  EXPECT_FALSE(readDeployRecord(deploysDir(dir.path()) / "broken", &error));
  EXPECT_NE(error.find("not a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace octolaunch::deploy
