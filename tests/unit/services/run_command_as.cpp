// Test helper: `run_command_as USER COMMAND` runs COMMAND the way the agent runs a configured
// command (runShellCommand with run_as USER, 10 s timeout) and prints the result as
// "exit=N\nerror=...\n" followed by the command's output. Run under setpriv, it shows what an agent
// with a given user and capabilities can do.
#include <iostream>

#include "agent/services/shell_command.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: run_command_as USER COMMAND\n";
    return 2;
  }
  const auto result =
      octolaunch::services::runShellCommand(argv[2], std::chrono::seconds(10), 1 << 16, argv[1]);
  std::cout << "exit=" << result.exitCode << "\nerror=" << result.error << "\n" << result.output;
  return 0;
}
