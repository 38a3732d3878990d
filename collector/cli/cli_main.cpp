// octolaunch: the command-line client of the collector's HTTP API (wiring only).
#include <iostream>

#include "collector/cli/cli_app.h"

int main(int argc, char** argv) {
  return octolaunch::cli::runCli(argc, argv, std::cout, std::cerr);
}
