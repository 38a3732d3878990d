// The spool on a filesystem that fills up, with the real octolaunch-agent binary: a deploy whose
// hook prints 50,000 lines into a spool on a 2 MiB tmpfs. The spool keeps what fits, sheds the
// rest of the lines, and still records the deploy markers, the hook.exit and a spool.shed whose
// count is exactly the lines it did not keep.
//
// Needs root (mount). Outside CI it skips with the reason; under CI=true it fails instead. It uses
// the host kernel (tmpfs): run it under the shared host-kernel lock (ctest: RESOURCE_LOCK).
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "agent/spool/spool.h"
#include "tests/support/agent_queue.h"
#include "tests/support/process.h"
#include "tests/support/skip.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs.h"

namespace octolaunch::agent {
namespace {

using schema::Event;

TEST(SpoolFullFilesystem, DeployMarkersHookExitAndShedCountSurviveAFullTmpfs) {
  if (::geteuid() != 0) OCTOLAUNCH_SKIP_UNLESS_CI("mounting a tmpfs needs root");
  testing::TempDir dir;
  testing::Tmpfs fs(dir / "fs", "size=2m");
  if (!fs.ok()) OCTOLAUNCH_SKIP_UNLESS_CI(fs.error());
  const auto spoolDir = dir / "fs" / "spool";
  // The records wait in a queue outside the small filesystem, and are imported from there.
  const auto queueDir = dir / "queue";
  const auto config =
      dir.write("agent.toml", "[local]\nqueue_dir = \"" + queueDir.string() + "\"\n");
  constexpr int kLines = 50000;
  auto agent = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {AGENT_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& a :
         {std::string("--release"), std::string("r1"), std::string("--service"), std::string("api"),
          std::string("--spool-dir"), spoolDir.string(), std::string("--config"),
          config.string()}) {
      argv.push_back(a);
    }
    return argv;
  };
  auto start = testing::run(agent({"deploy", "start"}), std::chrono::seconds(30));
  ASSERT_EQ(start.exitCode, 0) << start.err;
  auto argv = agent({"hook"});
  for (const char* a : {"--", "/bin/sh", "-c", "seq 1 50000 | sed 's/^/migrating row /'"})
    argv.push_back(a);
  auto hook = testing::run(argv, std::chrono::seconds(60));
  ASSERT_EQ(hook.exitCode, 0) << hook.err;
  // `hook` returns before its detached recorder is done: wait for it, and import as the daemon
  // would, so the marker below comes after the hook's lines.
  testing::importAgentQueue(spoolDir, std::chrono::seconds(30), queueDir);

  auto finish = testing::run(agent({"deploy", "finish"}), std::chrono::seconds(30));
  ASSERT_EQ(finish.exitCode, 0) << finish.err;
  testing::importAgentQueue(spoolDir, std::chrono::seconds(30), queueDir);
  // The filesystem really filled up.
  EXPECT_LT(std::filesystem::space(spoolDir).available, std::uintmax_t{64} << 10);

  std::vector<std::string> order;  // the kinds other than hook.output, in seq order
  std::uint64_t kept = 0;
  std::uint64_t shed = 0;
  std::int64_t exitLines = -1;
  auto spool = Spool::open({spoolDir, std::uint64_t{256} << 20, nullptr, 0});
  spool->readAfter(0, 1u << 30, [&](std::uint64_t, kj::ArrayPtr<const capnp::word> words) {
    capnp::FlatArrayMessageReader reader(words);
    auto payload = reader.getRoot<Event>().getPayload();
    switch (payload.which()) {
      case Event::Payload::HOOK_OUTPUT:
        ++kept;
        return;
      case Event::Payload::HOOK_BLOCK:
        kept += payload.getHookBlock().getLines().size();
        return;
      case Event::Payload::SPOOL_SHED:
        shed += payload.getSpoolShed().getCount();
        order.push_back("spool.shed");
        return;
      case Event::Payload::HOOK_EXIT:
        exitLines = payload.getHookExit().getStdoutLines();
        order.push_back("hook.exit");
        return;
      case Event::Payload::DEPLOY_START:
        order.push_back("deploy.start");
        return;
      case Event::Payload::DEPLOY_FINISH:
        order.push_back("deploy.finish");
        return;
      default:
        return;
    }
  });
  std::printf("2 MiB tmpfs: %llu of %d lines kept, spool.shed count %llu\n",
              static_cast<unsigned long long>(kept), kLines, static_cast<unsigned long long>(shed));
  EXPECT_EQ(order,
            (std::vector<std::string>{"deploy.start", "spool.shed", "hook.exit", "deploy.finish"}));
  EXPECT_EQ(exitLines, kLines);
  EXPECT_GT(kept, 0u);
  EXPECT_GT(shed, 0u);
  EXPECT_EQ(kept + shed, static_cast<std::uint64_t>(kLines));
  EXPECT_EQ(spool->stats().shedPending, 0u);
}

}  // namespace
}  // namespace octolaunch::agent
