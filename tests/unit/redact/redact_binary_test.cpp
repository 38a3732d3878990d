// The real octolaunch-agent binary: a hook whose command prints a secret of every family on both
// streams (and carries two on its command line) leaves none of them in the spool's files, byte
// for byte, while its passthrough output stays as printed.
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/spool/spool.h"
#include "tests/support/agent_queue.h"
#include "tests/support/planted_secrets.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace octolaunch::agent {
namespace {

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RedactBinary, NoPlantedSecretReachesTheSpoolFiles) {
  testing::TempDir dir;
  testing::SecretPlanter planter(20261206);
  testing::PlantedSecrets planted = planter.plant();
  // A configured extra pattern applies too.
  planted.lines.push_back("tenant ACME-" + std::to_string(100000 + planted.lines.size()));
  planted.secrets.push_back(planted.lines.back().substr(7));
  std::string printed;
  for (const auto& line : planted.lines) printed += line + "\n";
  auto output = dir.write("output.txt", printed);
  auto config = dir.write("agent.toml", "[redact]\npatterns = [\"ACME-[0-9]{6}\"]\n");
  const std::string commandSecret = "CmdLinePassw0rd";
  const std::string commandToken = "ghp_" + std::string(36, 'Q');
  planted.secrets.push_back(commandSecret);
  planted.secrets.push_back(commandToken);
  const auto spoolDir = dir / "spool";

  auto result = testing::run({AGENT_BIN, "hook", "--spool-dir", spoolDir.string(), "--config",
                              config.string(), "--", "/bin/sh", "-c", "cat \"$1\"; cat \"$1\" >&2",
                              "sh", output.string(), "--password", commandSecret, commandToken},
                             std::chrono::seconds(30));
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.out, printed);  // the passthrough is the command's own output

  // Without a daemon the records wait in the queue; `hook` returns before its detached recorder
  // is done: wait for it, and import them as the daemon would.
  testing::importAgentQueue(spoolDir, std::chrono::seconds(20));
  std::size_t outputs = 0;
  std::size_t exits = 0;
  {
    auto spool = Spool::open({spoolDir, std::uint64_t{64} << 20});
    spool->readAfter(0, 1u << 20, [&](std::uint64_t, kj::ArrayPtr<const capnp::word> words) {
      capnp::FlatArrayMessageReader reader(words);
      auto payload = reader.getRoot<schema::Event>().getPayload();
      if (payload.isHookOutput()) ++outputs;
      if (payload.isHookBlock()) outputs += payload.getHookBlock().getLines().size();
      if (payload.isHookExit()) ++exits;
    });
  }
  // Every line was recorded (masked), on both streams: the check below is not vacuous.
  EXPECT_EQ(outputs, 2 * planted.lines.size());
  EXPECT_EQ(exits, 1u);

  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(spoolDir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string bytes = readFile(entry.path());
    for (const auto& secret : planted.secrets) {
      EXPECT_EQ(bytes.find(secret), std::string::npos)
          << secret << " is in " << entry.path().filename();
    }
  }
  EXPECT_GE(files, 1u);
}

}  // namespace
}  // namespace octolaunch::agent
