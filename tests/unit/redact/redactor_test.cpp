#include "agent/redact/redactor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/planted_secrets.h"

namespace octolaunch::agent {
namespace {

std::vector<std::string> redactFile(const Redactor& r, const std::string& name) {
  std::ifstream in(std::string(REDACT_FIXTURES) + "/" + name);
  EXPECT_TRUE(in) << name;
  std::vector<std::string> out;
  RedactState state;
  for (std::string line; std::getline(in, line);) {
    // curl -v prints header lines with CRLF; the hook wrapper records them without the CR.
    if (!line.empty() && line.back() == '\r') line.pop_back();
    r.redact(line, state);
    out.push_back(line);
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  return all;
}

bool contains(const std::vector<std::string>& lines, const std::string& line) {
  for (const auto& l : lines) {
    if (l == line) return true;
  }
  return false;
}

TEST(Redactor, CurlVerboseBearerCookieAndQueryToken) {
  Redactor r;
  auto lines = redactFile(r, "curl-v.txt");
  std::string all = joined(lines);
  EXPECT_EQ(all.find("eyJhbGci"), std::string::npos) << all;
  EXPECT_EQ(all.find("8f3a2b1c9d"), std::string::npos) << all;
  EXPECT_EQ(all.find("abc123"), std::string::npos) << all;
  EXPECT_TRUE(contains(lines, "> Authorization: Bearer ***")) << all;
  EXPECT_TRUE(contains(lines, "> Cookie: ***")) << all;
  EXPECT_TRUE(contains(lines, "> GET /?token=***&page=2 HTTP/1.1")) << all;
  // Lines without secrets are untouched.
  EXPECT_TRUE(contains(lines, "> Host: 127.0.0.1:18765"));
  EXPECT_TRUE(contains(lines, "< Content-type: text/html; charset=utf-8"));
}

TEST(Redactor, CurlBasicAuth) {
  Redactor r;
  auto lines = redactFile(r, "curl-basic.txt");
  EXPECT_EQ(joined(lines).find("YWRtaW46"), std::string::npos);
  EXPECT_TRUE(contains(lines, "> Authorization: Basic ***"));
  EXPECT_TRUE(contains(lines, "* Server auth using Basic with user 'admin'"));
}

TEST(Redactor, PsqlErrorsSurviveUnchanged) {
  Redactor r;
  std::ifstream in(std::string(REDACT_FIXTURES) + "/psql1.txt");
  std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(joined(redactFile(r, "psql1.txt")), original);
  EXPECT_EQ(r.redacted("FATAL:  password authentication failed for user \"app\""),
            "FATAL:  password authentication failed for user \"app\"");
}

TEST(Redactor, AwsConfigureListIsLeftAlone) {
  Redactor r;
  std::ifstream in(std::string(REDACT_FIXTURES) + "/aws.txt");
  std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::erase(original, '\r');
  EXPECT_EQ(joined(redactFile(r, "aws.txt")), original);
}

TEST(Redactor, DeployScriptTrace) {
  Redactor r;
  auto lines = redactFile(r, "deploy-trace.txt");
  std::string all = joined(lines);
  for (const char* secret :
       {"Sup3rS3cret", "eyJhbGci", "hunter2", "k-12345", "wJalrXUtnFEMI", "tok_9f8e7d"}) {
    EXPECT_EQ(all.find(secret), std::string::npos) << secret << " leaked:\n" << all;
  }
  EXPECT_TRUE(contains(lines, "+ export PGPASSWORD=***")) << all;
  EXPECT_TRUE(contains(lines,
                       "+ psql 'host=127.0.0.1 port=5 user=app password=*** dbname=orders "
                       "connect_timeout=1' -c 'select 1'"))
      << all;
  EXPECT_TRUE(contains(lines,
                       "+ curl -sS -H 'Authorization: Bearer ***' "
                       "'https://deploy:***@127.0.0.1:5/api?api_key=***&x=1'"))
      << all;
  EXPECT_TRUE(contains(lines, "{\"user\": \"app\", \"password\": ***, \"access_token\": ***}"))
      << all;
  EXPECT_TRUE(contains(lines,
                       "curl: (7) Failed to connect to 127.0.0.1 port 5 after 4 ms: "
                       "Couldn't connect to server"));
}

TEST(Redactor, PemPrivateKeyBodyAcrossLines) {
  Redactor r;
  auto lines = redactFile(r, "key.pem");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "-----BEGIN PRIVATE KEY-----***");
  EXPECT_EQ(lines[1], "***");
  EXPECT_EQ(lines[2], "***-----END PRIVATE KEY-----");
  // The state ends with the key: the next line is ordinary again.
  RedactState state;
  std::string l1 = "-----BEGIN RSA PRIVATE KEY-----";
  std::string l2 = "MIIEowIBAAKCAQEA";
  std::string l3 = "-----END RSA PRIVATE KEY-----";
  std::string l4 = "done";
  r.redact(l1, state);
  r.redact(l2, state);
  r.redact(l3, state);
  r.redact(l4, state);
  EXPECT_EQ(l2, "***");
  EXPECT_EQ(l4, "done");
  EXPECT_FALSE(state.inPrivateKey);
  // A key named as such in YAML: its marker is not masked away before the key's state is set.
  RedactState yaml;
  std::string y1 = "private_key: -----BEGIN RSA PRIVATE KEY-----";
  std::string y2 = "  MIIEowIBAAKCAQEAsecretbody";
  r.redact(y1, yaml);
  r.redact(y2, yaml);
  EXPECT_EQ(y2, "***");
  // One line holding a whole (escaped) key, as in JSON.
  EXPECT_EQ(
      r.redacted(
          "{\"key\": \"-----BEGIN EC PRIVATE KEY-----\\nMHcC\\n-----END EC PRIVATE KEY-----\"}"),
      "{\"key\": \"-----BEGIN EC PRIVATE KEY-----***-----END EC PRIVATE KEY-----\"}");
}

TEST(Redactor, AwsAccessKeyIdAnywhere) {
  Redactor r;
  EXPECT_EQ(r.redacted("using key AKIAIOSFODNN7EXAMPLE for upload"), "using key *** for upload");
  EXPECT_EQ(r.redacted("AKIAIOSFODNN7EXAMPLEXX is too long"), "AKIAIOSFODNN7EXAMPLEXX is too long");
  // Neither needs a ':' or '=' (the cheap pre-check must let them through).
  EXPECT_EQ(r.redacted("AKIAIOSFODNN7EXAMPLE"), "***");
  EXPECT_EQ(r.redacted("sent BEARER eyJhbGciOiJIUzI1NiJ9 upstream"), "sent BEARER *** upstream");
}

TEST(Redactor, FlagsAndQuotedValues) {
  Redactor r;
  EXPECT_EQ(r.redacted("docker login --password s3cret registry.local"),
            "docker login --password *** registry.local");
  EXPECT_EQ(r.redacted("mysql --password=s3cret -h db"), "mysql --password=*** -h db");
  EXPECT_EQ(r.redacted("DB_PASSWORD=\"two words\" next"), "DB_PASSWORD=*** next");
  EXPECT_EQ(r.redacted("client_secret: 'abc def'"), "client_secret: ***");
  EXPECT_EQ(r.redacted("redis://:p4ss@cache:6379/0"), "redis://:***@cache:6379/0");
}

TEST(Redactor, OrdinaryLinesUntouched) {
  Redactor r;
  for (const char* line : {"Applying migration 0042_add_index ... OK", "Step 3/7 : RUN make",
                           "rsync -a build/ app@10.0.0.4:/srv/app/", "", "monkey business",
                           "https://example.com/path?page=2"}) {
    EXPECT_EQ(r.redacted(line), line);
  }
}

TEST(Redactor, LinearTimeOnHostileInput) {
  Redactor r;
  // Inputs that make backtracking engines explode stay fast with RE2.
  std::string evil = "password" + std::string(100000, '=') + std::string(100000, ' ');
  std::string evil2(200000, 'a');
  evil2 += "://";
  evil2 += std::string(200000, ':');
  auto start = std::chrono::steady_clock::now();
  r.redacted(evil);
  r.redacted(evil2);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

// Every family, freshly generated values: none survives, whatever the seed.
TEST(Redactor, NoPlantedSecretSurvives) {
  Redactor r;
  for (std::uint32_t seed : {1u, 2u, 3u, 20261206u}) {
    testing::SecretPlanter planter(seed);
    testing::PlantedSecrets planted = planter.plant();
    RedactState state;
    std::string all;
    for (std::string line : planted.lines) {
      r.redact(line, state);
      all += line + "\n";
    }
    EXPECT_FALSE(state.inPrivateKey);
    for (const auto& secret : planted.secrets) {
      EXPECT_EQ(all.find(secret), std::string::npos)
          << "seed " << seed << ": " << secret << " leaked:\n"
          << all;
    }
  }
}

TEST(Redactor, OrdinaryGeneratedLinesUntouched) {
  Redactor r;
  testing::SecretPlanter planter(7);
  RedactState state;
  for (const auto& line : planter.ordinary()) {
    std::string copy = line;
    EXPECT_FALSE(r.redact(copy, state)) << line;
    EXPECT_EQ(copy, line);
  }
}

TEST(Redactor, TokenFamiliesKeepTheirContext) {
  Redactor r;
  EXPECT_EQ(r.redacted("git push https://oauth2:glpat-abcdefghij0123456789@gitlab.local/x.git"),
            "git push https://oauth2:***@gitlab.local/x.git");
  EXPECT_EQ(r.redacted("Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/x"),
            "Authorization: AWS4-HMAC-SHA256 ***");
  EXPECT_EQ(r.redacted("notify with xoxb-1234567890-abcdefghij done"), "notify with *** done");
  EXPECT_EQ(r.redacted("-----BEGIN PGP PRIVATE KEY BLOCK-----"),
            "-----BEGIN PGP PRIVATE KEY BLOCK-----***");
  // Near misses stay: too short to be a token, no key name.
  for (const char* line : {"ghp_short", "sk_live_x", "npm_install done", "eyJhbGciOiJIUzI1NiJ9"}) {
    EXPECT_EQ(r.redacted(line), line);
  }
}

TEST(Redactor, ExtraPatternsMaskTheMatchOrTheirFirstGroup) {
  Redactor r({"ACME-[0-9]{6}", "(?i)license[ =]+([a-z0-9]+)"});
  EXPECT_EQ(r.redacted("tenant ACME-123456 up"), "tenant *** up");
  EXPECT_EQ(r.redacted("License = ab12cd, License x9"), "License = ***, License ***");
  // Built-ins still apply, and lines without a match are untouched.
  EXPECT_EQ(r.redacted("password=x ACME-000001"), "password=*** ***");
  EXPECT_EQ(r.redacted("ACME-12 is not one"), "ACME-12 is not one");
  // An extra pattern that can match nothing still terminates.
  Redactor empty({"x*"});
  EXPECT_EQ(empty.redacted("abxxc"), "ab***c");
}

TEST(Redactor, BadExtraPatternIsRejectedByName) {
  try {
    Redactor r({"ok", "(unclosed"});
    FAIL() << "a pattern that does not compile was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("(unclosed"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace octolaunch::agent
