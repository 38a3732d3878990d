// Every `octolaunch` command. Adding one: a file in commands/, its factory declared here and
// listed in allCommands() (command_registry.cpp).
#pragma once

#include <memory>
#include <vector>

#include "collector/cli/command.h"

namespace octolaunch::cli {

std::unique_ptr<Command> makeEventsCommand();         // events [--release R] [--host H] ...
std::unique_ptr<Command> makeEventsPurgeCommand();    // events purge --release R --match P
std::unique_ptr<Command> makeReleasesCommand();       // releases
std::unique_ptr<Command> makeReleaseShowCommand();    // release show R
std::unique_ptr<Command> makeReleaseCreateCommand();  // release create --id R --service S ...
std::unique_ptr<Command> makeReleaseStageCommand();   // release stage R --name N --status S
std::unique_ptr<Command> makeWhyCommand();            // why R
std::unique_ptr<Command> makeTimelineCommand();       // timeline R
std::unique_ptr<Command> makeDriftCommand();          // drift --service S
std::unique_ptr<Command> makeAgentsListCommand();     // agents list
std::unique_ptr<Command> makeAgentsRevokeCommand();   // agents revoke ID

std::vector<std::unique_ptr<Command>> allCommands();

}  // namespace octolaunch::cli
