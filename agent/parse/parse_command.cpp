#include "agent/parse/parse_command.h"

#include <iostream>

namespace octolaunch::parse {

int runParseCommand(const std::string& source, std::istream&, std::ostream&, std::ostream& err,
                    const std::string&) {
  err << "octolaunch-agent parse: " << source << ": not implemented yet\n";
  return 2;
}

int runParseCommand(const std::string& source, const std::string& path) {
  return runParseCommand(source, std::cin, std::cout, std::cerr, path);
}

}  // namespace octolaunch::parse
