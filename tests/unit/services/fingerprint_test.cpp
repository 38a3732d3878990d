#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "agent/services/env_file.h"
#include "agent/services/fingerprint_key.h"
#include "shared/util/sha256.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::services {
namespace {

using testing::TempDir;

std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string shellOutput(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

TEST(FingerprintKey, KnownHmacSha256Vector) {
  // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  EXPECT_EQ(FingerprintKey("Jefe").hmacHex("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(FingerprintKey, SameValueAndKeySameHashDifferentKeyDifferentHash) {
  const FingerprintKey a("fleet-key-aaaaaaaaaaaaaaaa");
  const FingerprintKey a2("fleet-key-aaaaaaaaaaaaaaaa");
  const FingerprintKey b("fleet-key-bbbbbbbbbbbbbbbb");
  EXPECT_EQ(a.hmacHex("DATABASE_URL=postgres://x"), a2.hmacHex("DATABASE_URL=postgres://x"));
  EXPECT_NE(a.hmacHex("DATABASE_URL=postgres://x"), b.hmacHex("DATABASE_URL=postgres://x"));
  EXPECT_NE(a.hmacHex("DATABASE_URL=postgres://x"), a.hmacHex("DATABASE_URL=postgres://y"));
  EXPECT_EQ(a.hmacHex("").size(), 64u);
}

TEST(FingerprintKey, IdIsAShortDomainSeparatedHashOfTheKey) {
  // printf 'octolaunch fingerprint key id\0Jefe' | sha256sum | cut -c1-16
  EXPECT_EQ(FingerprintKey("Jefe").id(), "87ea91ce588a30ee");
  const FingerprintKey a("fleet-key-aaaaaaaaaaaaaaaa");
  EXPECT_EQ(a.id(), FingerprintKey("fleet-key-aaaaaaaaaaaaaaaa").id()) << "the same on every host";
  EXPECT_NE(a.id(), FingerprintKey("fleet-key-bbbbbbbbbbbbbbbb").id());
  // Not a hash the key is used for elsewhere: no prefix of the plain SHA-256 of the key, or of an
  // HMAC made with it.
  EXPECT_NE(toHex(Sha256::of("fleet-key-aaaaaaaaaaaaaaaa")).substr(0, 16), a.id());
  EXPECT_NE(a.hmacHex("").substr(0, 16), a.id());
}

TEST(FingerprintKey, FileHmacEqualsHmacOfContentsAndMissingFileIsAnError) {
  TempDir dir;
  std::string big(300000, 'x');  // several read pieces
  big[123456] = 'y';
  auto file = dir.write("big.conf", big);
  const FingerprintKey key("0123456789abcdef");
  std::string error;
  EXPECT_EQ(key.hmacFileHex(file, &error), key.hmacHex(big));
  EXPECT_FALSE(key.hmacFileHex(dir.path() / "absent", &error));
  EXPECT_EQ(error, "no such file: " + (dir.path() / "absent").string());
}

TEST(Sha256File, EqualsSha256sum) {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "line " + std::to_string(i) + "\n";
  auto file = dir.write("api.tar.gz", content);
  std::string error;
  auto digest = sha256FileHex(file, &error);
  ASSERT_TRUE(digest) << error;
  const std::string expected = shellOutput("sha256sum " + file.string()).substr(0, 64);
  ASSERT_EQ(expected.size(), 64u);
  EXPECT_EQ(*digest, expected);
}

TEST(LoadFingerprintKey, ConfigKeyThenKeyFileThenGenerated) {
  TempDir dir;
  FingerprintSettings settings;
  settings.key = "inline-key-0123456789";
  auto loaded = loadFingerprintKey(settings, dir.path());
  EXPECT_EQ(loaded.source, "config");
  EXPECT_FALSE(loaded.warning);
  EXPECT_EQ(loaded.key.hmacHex("v"), FingerprintKey("inline-key-0123456789").hmacHex("v"));

  auto keyFile = dir.write("fleet.key", "shared-fleet-key-0123456789\n");
  settings = {};
  settings.keyFile = keyFile;
  loaded = loadFingerprintKey(settings, dir.path());
  EXPECT_EQ(loaded.key.hmacHex("v"), FingerprintKey("shared-fleet-key-0123456789").hmacHex("v"));

  settings = {};
  settings.keyFile = dir.path() / "absent.key";
  EXPECT_THROW(loadFingerprintKey(settings, dir.path()), std::runtime_error);
}

TEST(LoadFingerprintKey, GeneratesOncePerSpoolAndWarns) {
  TempDir dir;
  auto first = loadFingerprintKey({}, dir.path());
  ASSERT_TRUE(first.warning);
  EXPECT_NE(first.warning->find("generated a per-host fingerprint key"), std::string::npos);
  EXPECT_NE(first.warning->find("key_file"), std::string::npos);
  const auto path = dir.path() / "fingerprint.key";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(readText(path).size(), 65u);  // 64 hex digits + newline

  auto second = loadFingerprintKey({}, dir.path());
  EXPECT_EQ(first.key.hmacHex("v"), second.key.hmacHex("v"));
  ASSERT_TRUE(second.warning);
  EXPECT_NE(second.warning->find("using the per-host fingerprint key"), std::string::npos);

  TempDir other;
  EXPECT_NE(loadFingerprintKey({}, other.path()).key.hmacHex("v"), first.key.hmacHex("v"));
}

TEST(LoadFingerprintKey, RacingGeneratorsAgreeOnOneKey) {
  TempDir dir;
  std::vector<std::string> hashes(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    threads.emplace_back(
        [&, i] { hashes[i] = loadFingerprintKey({}, dir.path()).key.hmacHex("v"); });
  }
  for (auto& t : threads) t.join();
  for (const auto& h : hashes) EXPECT_EQ(h, hashes[0]);
}

// The daemon warns at start when fingerprints would use a per-host key; only then.
TEST(PerHostKeyWarning, OnlyForFingerprintedServicesWithoutASharedKey) {
  const std::filesystem::path spool = "/var/spool/octolaunch";
  auto configOf = [](const std::string& text) { return parseServicesConfig(toml::parse(text)); };
  auto warning = perHostKeyWarning(
      configOf("[service.api]\nconfig_files = [\"/etc/hostname\"]\n[service.quiet]\n"), spool);
  ASSERT_TRUE(warning.has_value());
  EXPECT_NE(warning->find("no [fingerprint] key"), std::string::npos) << *warning;
  EXPECT_NE(warning->find("/var/spool/octolaunch/fingerprint.key"), std::string::npos);
  EXPECT_FALSE(perHostKeyWarning(configOf("[service.quiet]\nunits = [\"q.service\"]\n"), spool));
  EXPECT_FALSE(perHostKeyWarning(configOf("[fingerprint]\nkey = \"0123456789abcdef0123\"\n"
                                          "[service.api]\nenv = [\"TOKEN\"]\n"),
                                 spool));
}

// Real files from a Debian 12 host (see fixtures/README.md).
TEST(EnvFile, DebianDefaultFiles) {
  const std::filesystem::path fixtures = std::filesystem::path(OCTOLAUNCH_SERVICES_FIXTURES);
  auto useradd = parseEnvFile(readText(fixtures / "etc-default-useradd"));
  EXPECT_EQ(useradd, (std::map<std::string, std::string>{{"SHELL", "/bin/sh"}}));
  auto nss = parseEnvFile(readText(fixtures / "etc-default-nss"));
  EXPECT_EQ(nss, (std::map<std::string, std::string>{{"ADJUNCT_AS_SHADOW", "TRUE"}}));
  auto osRelease = parseEnvFile(readText(fixtures / "etc-os-release"));
  EXPECT_EQ(osRelease.size(), 9u);
  EXPECT_EQ(osRelease["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(osRelease["VERSION_CODENAME"], "bookworm");
  EXPECT_EQ(osRelease["HOME_URL"], "https://www.debian.org/");
}

TEST(EnvFile, QuotingExportContinuationAndRepeats) {
  auto env = parseEnvFile(
      "export DATABASE_URL='postgres://u:p@db/app'\n"
      "  TOKEN = \"a \\\"quoted\\\" \\$value\"  \r\n"
      "; comment\n"
      "LONG=first\\\n"
      "second\n"
      "not a line\n"
      "1BAD=x\n"
      "TOKEN2=plain # not a comment in systemd either\n"
      "DATABASE_URL=later\n");
  EXPECT_EQ(env["DATABASE_URL"], "later");
  EXPECT_EQ(env["TOKEN"], "a \"quoted\" $value");
  EXPECT_EQ(env["LONG"], "firstsecond");
  EXPECT_EQ(env["TOKEN2"], "plain # not a comment in systemd either");
  EXPECT_EQ(env.count("1BAD"), 0u);
  EXPECT_EQ(env.size(), 4u);
}

}  // namespace
}  // namespace octolaunch::services
