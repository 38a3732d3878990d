// The rule as users meet it, on the real binaries: the daemons and their --check-config refuse a
// bad file (exit 1, naming file, line and key) and start nothing; usage errors exit 2; `hook`
// warns and runs the command.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "tests/support/process.h"

namespace octolaunch::config {
namespace {

using octolaunch::testing::run;
using namespace std::chrono_literals;

class ConfigBinaries : public ::testing::Test {
 protected:
  ConfigBinaries() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "config-bin-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  ~ConfigBinaries() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigBinaries, CollectorCheckConfigRefusesABadFileNamingTheLine) {
  const std::string bad = write("bad.toml", "[http]\nthreads = 4\ntreads = 8\n");
  auto result = run({COLLECTOR_BIN, "--check-config", "--config", bad}, 10s);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find(bad + ":3: http.treads: unknown key; did you mean `threads`?"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.out.find("listening"), std::string::npos) << "nothing may start";

  const std::string good = write("good.toml", "[http]\nthreads = 4\n");
  result = run({COLLECTOR_BIN, "--check-config", "--config", good}, 10s);
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("config ok"), std::string::npos);

  result = run({COLLECTOR_BIN, "--check-config", "--config", (dir_ / "absent.toml").string()}, 10s);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find("absent.toml: no such config file"), std::string::npos) << result.err;
}

TEST_F(ConfigBinaries, CollectorRefusesToStartOnABadFile) {
  const std::string bad = write("bad.toml", "[analysis]\ndeploy_max_seconds = 0\n");
  const auto result = run({COLLECTOR_BIN, "--config", bad, "--data-dir", (dir_ / "data").string(),
                           "--rpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"},
                          10s);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find(bad + ":2: analysis.deploy_max_seconds: must be between 1 and"),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data")) << "the store must not be opened";
}

TEST_F(ConfigBinaries, AgentCheckConfigReadsEverySection) {
  const std::string bad = write("bad.toml", "[sources.kmsg]\nenabled = \"yes\"\n[spol]\n");
  auto result = run({AGENT_BIN, "run", "--check-config", "--config", bad}, 10s);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find(bad + ":2: sources.kmsg.enabled: expected true or false, got a string"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find(bad + ":3: spol: unknown section; did you mean [spool]?"),
            std::string::npos)
      << result.err;

  const std::string good = write("good.toml", "[sources.kmsg]\nenabled = false\n");
  result = run({AGENT_BIN, "run", "--check-config", "--config", good}, 10s);
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("config ok"), std::string::npos);

  result =
      run({AGENT_BIN, "run", "--check-config", "--config", (dir_ / "absent.toml").string()}, 10s);
  EXPECT_EQ(result.exitCode, 1);
  EXPECT_NE(result.err.find("absent.toml: no such config file"), std::string::npos) << result.err;
}

// The daemon itself, not only --check-config: every section's problem is the same config error
// (exit 1), and nothing starts.
TEST_F(ConfigBinaries, AgentRunRefusesEverySectionsProblemWithExit1) {
  const std::string spool = (dir_ / "spool").string();
  for (const std::string& text : {std::string("[spool]\nmax_bytes = \"big\"\n"),
                                  std::string("[sources.kmsg]\nenabled = \"yes\"\n"),
                                  std::string("[service.api]\nunitz = [\"api.service\"]\n")}) {
    const std::string bad = write("bad.toml", text);
    const auto result = run({AGENT_BIN, "run", "--config", bad, "--spool-dir", spool}, 10s);
    EXPECT_EQ(result.exitCode, 1) << text << result.err;
    EXPECT_NE(result.err.find(bad + ":2: "), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(spool)) << text << ": the spool must not be opened";
  }
}

// Usage errors exit 2 with CLI11's message on stderr (not CLI11's own codes, 100 and up);
// --help and --version exit 0.
TEST_F(ConfigBinaries, AgentUsageErrorsExit2) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const Case& c :
       std::vector<Case>{{{"deploy", "start", "--service", "api"}, "--release is required"},
                         {{"deploy", "begin", "--release", "r1", "--service", "api"}, "begin"},
                         {{"run", "--no-such-flag"}, "--no-such-flag"},
                         {{"no-such-command"}, "A subcommand is required"},
                         {{}, "subcommand"}}) {
    std::vector<std::string> argv = {AGENT_BIN};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const auto result = run(argv, 10s);
    EXPECT_EQ(result.exitCode, 2) << c.says << "\n" << result.err;
    EXPECT_NE(result.err.find(c.says), std::string::npos) << result.err;
  }
  auto result = run({AGENT_BIN, "--help"}, 10s);
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("deploy"), std::string::npos) << result.out;
  result = run({AGENT_BIN, "--version"}, 10s);
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_NE(result.out.find("octolaunch-agent "), std::string::npos) << result.out;
}

TEST_F(ConfigBinaries, HookWarnsAboutABadFileAndRunsTheCommand) {
  const std::string bad = write("bad.toml", "[hook]\ntail_lines = \"many\"\n");
  const auto result = run({AGENT_BIN, "hook", "--config", bad, "--spool-dir",
                           (dir_ / "spool").string(), "--", "sh", "-c", "echo ran; exit 0"},
                          10s);
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.out, "ran\n");
  EXPECT_NE(result.err.find("warning: " + bad + ":2: hook.tail_lines: expected an integer"),
            std::string::npos)
      << result.err;

  const auto missing = run({AGENT_BIN, "hook", "--config", (dir_ / "absent.toml").string(),
                            "--spool-dir", (dir_ / "spool").string(), "--", "true"},
                           10s);
  EXPECT_EQ(missing.exitCode, 0) << missing.err;
  EXPECT_NE(missing.err.find("warning: "), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace octolaunch::config
