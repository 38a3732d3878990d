#include "collector/cli/command_registry.h"

namespace octolaunch::cli {

std::vector<std::unique_ptr<Command>> allCommands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(makeEventsCommand());
  commands.push_back(makeEventsPurgeCommand());
  commands.push_back(makeReleasesCommand());
  commands.push_back(makeReleaseShowCommand());
  commands.push_back(makeReleaseCreateCommand());
  commands.push_back(makeReleaseStageCommand());
  commands.push_back(makeWhyCommand());
  commands.push_back(makeTimelineCommand());
  commands.push_back(makeDriftCommand());
  commands.push_back(makeAgentsListCommand());
  commands.push_back(makeAgentsRevokeCommand());
  return commands;
}

}  // namespace octolaunch::cli
