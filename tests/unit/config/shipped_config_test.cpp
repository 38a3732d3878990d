// The example files shipped in packaging/config/: they load without a problem under the daemons'
// strict reading, and they document every key the readers know.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <tuple>

#include "agent/config/agent_config.h"
#include "agent/services/services_config.h"
#include "agent/sources/sources_config.h"
#include "collector/analysis/analysis_config.h"
#include "collector/config/collector_config.h"

namespace octolaunch::config {
namespace {

const std::filesystem::path kAgentToml =
    std::filesystem::path(OCTOLAUNCH_SOURCE_DIR) / "packaging/config/agent.toml";
const std::filesystem::path kCollectorToml =
    std::filesystem::path(OCTOLAUNCH_SOURCE_DIR) / "packaging/config/collector.toml";

// The file with its documented examples switched on: "# key = value" and "# [section]" lines lose
// their "# " (prose never has a space before its first " = ", nor starts with "[").
std::string uncommented(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::string text;
  for (std::string line; std::getline(in, line);) {
    const bool example = line.rfind("# ", 0) == 0 && line.find(" = ") != std::string::npos &&
                         line.find(' ', 2) == line.find(" = ");
    const bool header = line.rfind("# [", 0) == 0 && line.find(' ', 2) == std::string::npos;
    text += (example || header ? line.substr(2) : line) + "\n";
  }
  return text;
}

// Everything each daemon reads from `path`: the agent's own keys, [sources.*], [service.*] and
// [fingerprint]; the collector's own keys and [analysis].
void readAgentFile(const std::filesystem::path& path, ConfigReport& report) {
  const agent::AgentConfig config = agent::readAgentConfig(path, {}, {}, report);
  sources::readSourcesConfig(config.raw, report);
  services::readServicesConfig(config.raw, report);
}

void readCollectorFile(const std::filesystem::path& path, ConfigReport& report) {
  const collector::CollectorConfig config = collector::readCollectorConfig(path, true, report);
  analysis::readAnalysisConfig(config.raw, report);
}

// The uncommented examples, written to a file of the same name in a fresh directory.
class Uncommented final {
 public:
  explicit Uncommented(const std::filesystem::path& shipped) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shipped-config-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    path_ = dir_ / shipped.filename();
    text_ = uncommented(shipped);
    std::ofstream(path_) << text_;
  }
  ~Uncommented() { std::filesystem::remove_all(dir_); }
  const std::filesystem::path& path() const { return path_; }
  const std::string& text() const { return text_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
  std::string text_;
};

// Keys the readers asked for that the document does not have.
std::vector<std::string> undocumented(const toml::table& doc, const ConfigReport& report) {
  std::vector<std::string> missing;
  for (const std::string& key : report.askedKeys()) {
    if (!toml::at_path(doc, key)) missing.push_back(key);
  }
  return missing;
}

TEST(ShippedConfig, BothFilesLoadUnderTheDaemonsStrictReading) {
  ConfigReport agentReport;
  readAgentFile(kAgentToml, agentReport);
  EXPECT_NO_THROW(agentReport.settle(Strictness::strict));
  ConfigReport collectorReport;
  readCollectorFile(kCollectorToml, collectorReport);
  EXPECT_NO_THROW(collectorReport.settle(Strictness::strict));
}

// Every key a reader asks for appears in the example file. (Problems in the uncommented file are
// not the point here: its examples may be alternatives, such as [fingerprint] key and key_file.)
TEST(ShippedConfig, AgentFileDocumentsEveryKeyTheAgentReads) {
  const Uncommented file(kAgentToml);
  ConfigReport report;
  readAgentFile(file.path(), report);
  EXPECT_EQ(undocumented(toml::parse(file.text()), report), std::vector<std::string>{});
  // The examples cover a service with a probe of each type.
  EXPECT_TRUE(report.askedKeys().contains("service.api.health[2].command"));
}

TEST(ShippedConfig, CollectorFileDocumentsEveryKeyTheCollectorReads) {
  const Uncommented file(kCollectorToml);
  ConfigReport report;
  readCollectorFile(file.path(), report);
  EXPECT_NO_THROW(report.settle(Strictness::strict));
  EXPECT_EQ(undocumented(toml::parse(file.text()), report), std::vector<std::string>{});
  EXPECT_TRUE(report.askedKeys().contains("analysis.services.api.processes"));
}

// The agent's own keys are shown with their defaults.
TEST(ShippedConfig, AgentExamplesAreTheDefaults) {
  const agent::AgentConfig shipped = agent::parseAgentConfig(uncommented(kAgentToml), "agent.toml");
  const agent::AgentConfig defaults = agent::parseAgentConfig("", "agent.toml");
  auto values = [](const agent::AgentConfig& c) {
    return std::tuple(c.collector, c.spool.dir, c.spool.maxBytes, c.hook.graceSeconds,
                      c.hook.tailLines, c.hook.maxLineBytes, c.ship.batchMaxEvents, c.ship.window,
                      c.ship.backoffMaxMs);
  };
  EXPECT_EQ(values(shipped), values(defaults));
}

}  // namespace
}  // namespace octolaunch::config
