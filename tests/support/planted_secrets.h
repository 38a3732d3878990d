// Output lines with secrets of every family the agent's redactor knows, generated fresh from a
// seed (realistic formats, random values), and ordinary lines that must survive redaction as they
// are. For the redactor's tests, the hook's end-to-end redaction test and the redaction benchmark.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace octolaunch::testing {

struct PlantedSecrets {
  // The lines, in the order a command would print them (a PEM key spans several lines).
  std::vector<std::string> lines;
  // Every secret planted in `lines`: none may survive redaction.
  std::vector<std::string> secrets;
};

class SecretPlanter final {
 public:
  explicit SecretPlanter(std::uint32_t seed) : random_(seed) {}

  PlantedSecrets plant() {
    PlantedSecrets p;
    auto add = [&](const std::string& before, const std::string& secret,
                   const std::string& after = "") {
      p.lines.push_back(before + secret + after);
      p.secrets.push_back(secret);
    };
    const std::string upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    // AWS access key ids, with and without a name next to them.
    add("export AWS_ACCESS_KEY_ID=", "AKIA" + pick(upperDigits, 16));
    add("upload: using temporary key ", "ASIA" + pick(upperDigits, 16), " for s3 sync");
    // AWS secret keys: 40 base64 characters named as such.
    add("aws_secret_access_key = ", pick(kBase64, 40));
    add("AWS_SECRET_ACCESS_KEY    ", pick(kBase64, 40), "    env");
    // GitHub.
    add("Using ", "ghp_" + pick(kAlnum, 36), " for the API");
    add("oauth: ", "gho_" + pick(kAlnum, 36));
    add("user-to-server ", "ghu_" + pick(kAlnum, 36), " expires in 8h");
    add("git clone https://x-access-token:", "ghs_" + pick(kAlnum, 36), "@github.com/acme/api.git");
    add("refresh ", "ghr_" + pick(kAlnum, 76));
    add("GH ",
        "github_pat_11" + pick(upperDigits, 9) + "0" + pick(kAlnum, 11) + "_" + pick(kAlnum, 59));
    // GitLab, Slack, npm, PyPI, Stripe, Google.
    add("remote origin set with ", "glpat-" + pick(kAlnum, 20));
    add("posting to slack with ",
        "xoxb-" + pick(kDigits, 12) + "-" + pick(kDigits, 13) + "-" + pick(kAlnum, 24));
    add("legacy ", "xoxp-" + pick(kDigits, 11) + "-" + pick(kDigits, 11) + "-" + pick(kDigits, 12) +
                       "-" + pick("0123456789abcdef", 32));
    add("publishing with ", "npm_" + pick(kAlnum, 36));
    add("twine upload -u __token__ ", "pypi-AgEIcHlwaS5vcmc" + pick(kBase64Url, 70));
    add("charging via ", "sk_live_" + pick(kAlnum, 24));
    add("restricted ", "rk_live_" + pick(kAlnum, 24), " loaded");
    add("STRIPE ", "sk_test_" + pick(kAlnum, 24));
    add("maps client ", "AIza" + pick(kBase64Url, 35), " ready");
    // A JWT on its own.
    add("session ",
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOi" + pick(kBase64Url, 40) + "." +
            pick(kBase64Url, 86),
        " issued");
    // Authorization headers, any scheme.
    add("> Authorization: Bearer ", pick(kAlnum, 32));
    add("> Authorization: Basic ", pick(kBase64, 28) + "==");
    add("-H 'Authorization: token ", pick("0123456789abcdef", 40), "'");
    const std::string signature = pick("0123456789abcdef", 64);
    add("authorization: AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=", signature);
    // A PEM private key over several lines: every body line is a secret.
    p.lines.push_back("-----BEGIN RSA PRIVATE KEY-----");
    for (int i = 0; i < 5; ++i) add("", pick(kBase64, 64));
    p.lines.push_back("-----END RSA PRIVATE KEY-----");
    p.lines.push_back("-----BEGIN OPENSSH PRIVATE KEY-----");
    add("", "b3BlbnNzaC1rZXktdjEAAAAA" + pick(kBase64, 40));
    p.lines.push_back("-----END OPENSSH PRIVATE KEY-----");
    // URL credentials.
    add("connecting to postgres://app:", pick(kPassword, 18), "@db.internal:5432/orders");
    add("pip install --index-url https://deploy:", pick(kPassword, 14),
        "@pypi.internal/simple app");
    // Named values: key=value, key: value, JSON, flags.
    add("psql host=db user=app password=", pick(kPassword, 16), " dbname=orders");
    add("DB_SECRET=", pick(kPassword, 20));
    add("export API_KEY=", pick(kAlnum, 32));
    add("client_secret: ", pick(kAlnum, 40));
    add("{\"user\": \"app\", \"password\": \"", pick(kPassword, 16), "\", \"retries\": 3}");
    add("{\"api_key\":\"", pick(kAlnum, 32), "\"}");
    add("GET /v1/items?access_token=", pick(kAlnum, 24), "&page=2 200");
    add("docker login --password ", pick(kPassword, 16), " registry.local");
    add("  token: ", pick(kAlnum, 40));
    return p;
  }

  // Lines with nothing to mask: each must come out of the redactor unchanged.
  std::vector<std::string> ordinary() {
    return {
        "2026-12-06T19:42:40.123Z INFO  api: listening on 0.0.0.0:8080 (pid 4121)",
        "Applying migration 0042_add_index ... OK",
        "sha256:" + pick("0123456789abcdef", 64),
        "Digest: sha256:" + pick("0123456789abcdef", 64),
        "commit " + pick("0123456789abcdef", 40),
        "request " + uuid() + " finished in 12 ms",
        "aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgc2VjcmV0Cg==",
        "payload eyJhIjoxLCJiIjpbMiwzXX0= decoded",
        "/srv/app/releases/20261206-1942/bin/api --port 8080",
        "rsync -a build/ app@10.0.0.4:/srv/app/",
        "fetching https://example.com/downloads/app-1.4.2.tar.gz?mirror=eu",
        "ERROR: duplicate key value violates unique constraint \"orders_pkey\"",
        "Step 3/7 : RUN make -j2",
        "FATAL:  password authentication failed for user \"app\"",
        "monkey business",
        "",
    };
  }

  // A realistic mix for throughput: mostly ordinary log lines, some with trigger words, a
  // secret (or a whole private key) after every 19 other lines.
  std::vector<std::string> mix(std::size_t count) {
    // The planted lines as units that a command prints together: a key's lines stay together.
    std::vector<std::vector<std::string>> units;
    bool inKey = false;
    for (auto& line : plant().lines) {
      if (!inKey) units.emplace_back();
      units.back().push_back(line);
      if (line.find("-----BEGIN") == 0) inKey = true;
      if (line.find("-----END") == 0) inKey = false;
    }
    std::vector<std::string> plain = ordinary();
    std::vector<std::string> out;
    out.reserve(count + 64);
    for (std::size_t i = 0; out.size() < count; ++i) {
      if (i % 20 == 19) {
        for (const auto& line : units[(i / 20) % units.size()]) out.push_back(line);
      } else if (i % 5 == 0) {
        out.push_back("2026-12-06T19:42:" + pick(kDigits, 2) + "Z INFO worker " + pick(kDigits, 3) +
                      ": processed batch " + uuid() + " in " + pick(kDigits, 2) + " ms");
      } else {
        out.push_back(plain[i % plain.size()]);
      }
    }
    return out;
  }

 private:
  static constexpr const char* kDigits = "0123456789";
  static constexpr const char* kAlnum =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  static constexpr const char* kBase64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr const char* kBase64Url =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // No '@', '/', quote or space: passwords as people type them into URLs and configs.
  static constexpr const char* kPassword =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%^*()_+.~";

  std::string pick(const std::string& alphabet, std::size_t n) {
    std::uniform_int_distribution<std::size_t> index(0, alphabet.size() - 1);
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(alphabet[index(random_)]);
    return out;
  }
  std::string uuid() {
    const std::string hex = "0123456789abcdef";
    return pick(hex, 8) + "-" + pick(hex, 4) + "-4" + pick(hex, 3) + "-a" + pick(hex, 3) + "-" +
           pick(hex, 12);
  }

  std::mt19937 random_;
};

}  // namespace octolaunch::testing
