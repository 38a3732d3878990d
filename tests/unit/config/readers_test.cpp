// Every config reader under the one rule: an unknown section, an unknown key (with the nearest
// known key), a wrong type and an out-of-range value are each named by file, line and key.
#include <gtest/gtest.h>

#include <functional>

#include "agent/config/agent_config.h"
#include "agent/services/services_config.h"
#include "agent/sources/sources_config.h"
#include "collector/analysis/analysis_config.h"
#include "collector/config/collector_config.h"

namespace octolaunch::config {
namespace {

using Reader = std::function<void(std::string_view text)>;

const Reader kAgent = [](std::string_view text) { agent::parseAgentConfig(text, "agent.toml"); };
const Reader kSources = [](std::string_view text) {
  sources::parseSourcesConfig(toml::parse(text, std::string_view("agent.toml")));
};
const Reader kServices = [](std::string_view text) {
  services::parseServicesConfig(toml::parse(text, std::string_view("agent.toml")));
};
const Reader kCollector = [](std::string_view text) {
  collector::parseCollectorConfig(text, "collector.toml");
};
const Reader kAnalysis = [](std::string_view text) {
  analysis::parseAnalysisConfig(toml::parse(text, std::string_view("collector.toml")));
};

std::string errorOf(const Reader& reader, std::string_view text) {
  try {
    reader(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

struct Case {
  const char* name;
  const Reader* reader;
  const char* text;
  const char* error;
};

// clang-format off
const Case kCases[] = {
  {"agent unknown section", &kAgent, "[spol]\ndir = \"/x\"\n",
   "agent.toml:1: spol: unknown section; did you mean [spool]?"},
  {"agent unknown key", &kAgent, "[spool]\nmax_byte = 5\n",
   "agent.toml:2: spool.max_byte: unknown key; did you mean `max_bytes`?"},
  {"agent unknown top-level key", &kAgent, "colector = \"h:1\"\n",
   "agent.toml:1: colector: unknown key; did you mean `collector`?"},
  {"agent wrong type", &kAgent, "[hook]\n\ntail_lines = \"20\"\n",
   "agent.toml:3: hook.tail_lines: expected an integer, got a string"},
  {"agent out of range", &kAgent, "[ship]\nwindow = 0\n",
   "agent.toml:2: ship.window: must be between 1 and 1024, got 0"},
  {"agent bad address", &kAgent, "collector = \"h:99999\"\n",
   "agent.toml:1: collector: expected HOST:PORT, got \"h:99999\" (bad port)"},

  {"sources unknown section", &kSources, "[sources.kmgs]\nenabled = false\n",
   "agent.toml:1: sources.kmgs: unknown section; did you mean [sources.kmsg]?"},
  {"sources unknown key", &kSources, "[sources.kmsg]\nenabeld = false\n",
   "agent.toml:2: sources.kmsg.enabeld: unknown key; did you mean `enabled`?"},
  {"sources wrong type", &kSources, "[sources.psi]\nsome_avg10_percent = \"high\"\n",
   "agent.toml:2: sources.psi.some_avg10_percent: expected a number, got a string"},
  {"sources out of range", &kSources, "[sources.disk]\ninterval_ms = 5\n",
   "agent.toml:2: sources.disk.interval_ms: must be between 100 and 86400000, got 5"},

  {"services unknown section", &kServices,
   "[service.api]\nunits = [\"api.service\"]\n[service.api.helth]\ntype = \"tcp\"\n",
   "agent.toml:3: service.api.helth: unknown section; did you mean [service.api.health]?"},
  {"services unknown key", &kServices, "[service.api]\nunitz = [\"api.service\"]\n",
   "agent.toml:2: service.api.unitz: unknown key; did you mean `units`?"},
  {"services unknown probe key", &kServices,
   "[service.api]\nhealth = [{ type = \"tcp\", adress = \"h:1\" }]\n",
   "agent.toml:2: service.api.health[0].address: required (a non-empty string)\n"
   "agent.toml:2: service.api.health[0].adress: unknown key; did you mean `address`?"},
  {"services wrong type", &kServices, "[service.api]\nenv_from_process = \"yes\"\n",
   "agent.toml:2: service.api.env_from_process: expected true or false, got a string"},
  {"services out of range", &kServices,
   "[service.api]\nhealth = [{ type = \"http\", url = \"http://h/\", expect_status = 700 }]\n",
   "agent.toml:2: service.api.health[0].expect_status: must be between 100 and 599, got 700"},

  {"collector unknown section", &kCollector, "[htpp]\nthreads = 4\n",
   "collector.toml:1: htpp: unknown section; did you mean [http]?"},
  {"collector unknown key", &kCollector, "[http]\ntreads = 4\n",
   "collector.toml:2: http.treads: unknown key; did you mean `threads`?"},
  {"collector wrong type", &kCollector, "[http]\nthreads = \"four\"\n",
   "collector.toml:2: http.threads: expected an integer, got a string"},
  {"collector out of range", &kCollector, "[http]\nthreads = 0\n",
   "collector.toml:2: http.threads: must be between 1 and 256, got 0"},

  {"analysis unknown section", &kAnalysis, "[analysis.servics.api]\nunits = []\n",
   "collector.toml:1: analysis.servics: unknown section; did you mean [analysis.services]?"},
  {"analysis unknown key", &kAnalysis, "[analysis]\ndeploy_grace_secs = 5\n",
   "collector.toml:2: analysis.deploy_grace_secs: unknown key; did you mean "
   "`deploy_grace_seconds`?"},
  {"analysis wrong type", &kAnalysis, "[analysis]\ndeploy_grace_seconds = \"15m\"\n",
   "collector.toml:2: analysis.deploy_grace_seconds: expected an integer, got a string"},
  {"analysis out of range", &kAnalysis, "[analysis]\ndeploy_max_seconds = 0\n",
   "collector.toml:2: analysis.deploy_max_seconds: must be between 1 and 604800, got 0"},
};
// clang-format on

TEST(ConfigReaders, EveryProblemNamesFileLineAndKey) {
  for (const Case& c : kCases) EXPECT_EQ(errorOf(*c.reader, c.text), c.error) << c.name;
}

TEST(ConfigReaders, EveryProblemOfTheFileIsListedAtOnce) {
  EXPECT_EQ(errorOf(kCollector, "[http]\nthreads = 0\ntreads = 1\n[log]\nlevel = \"loud\"\n"),
            "collector.toml:2: http.threads: must be between 1 and 256, got 0\n"
            "collector.toml:3: http.treads: unknown key; did you mean `threads`?\n"
            "collector.toml:5: log.level: expected one of trace, debug, info, warn, error, "
            "critical, off, got \"loud\"");
}

TEST(ConfigReaders, TheTopLevelOfEachFileKnowsTheOtherReadersSections) {
  EXPECT_EQ(errorOf(kAgent, "[sources.kmsg]\n[service.api]\n[fingerprint]\n"), "(no error)");
  EXPECT_EQ(errorOf(kCollector, "[analysis]\ndeploy_grace_seconds = 1\n"), "(no error)");
}

TEST(ConfigReaders, LenientReadingWarnsAndKeepsDefaultsForWhatIsWrong) {
  const agent::AgentConfig config = agent::parseAgentConfig(
      "collector = \"nowhere\"\n[spool]\ndir = \"/srv/spool\"\nmax_byte = 1\n[hook]\ntail_lines = "
      "-1\n",
      "agent.toml", Strictness::lenient);
  EXPECT_EQ(config.spool.dir, "/srv/spool");  // what is right is kept
  EXPECT_EQ(config.collector, agent::kDefaultCollector);
  EXPECT_EQ(config.hook.tailLines, agent::HookSettings{}.tailLines);
  EXPECT_EQ(config.warnings,
            (std::vector<std::string>{
                "agent.toml:1: collector: expected HOST:PORT, got \"nowhere\" (no host or port)",
                "agent.toml:4: spool.max_byte: unknown key; did you mean `max_bytes`?",
                "agent.toml:6: hook.tail_lines: must be between 0 and 100000, got -1",
            }));

  const services::ServicesConfig services = services::parseServicesConfig(
      toml::parse("[service.api]\nunits = [\"api.service\"]\nhealth = [{ type = \"ftp\" }]\n",
                  std::string_view("agent.toml")),
      Strictness::lenient);
  ASSERT_EQ(services.services.size(), 1u);
  EXPECT_EQ(services.services[0].units, std::vector<std::string>{"api.service"});
  EXPECT_TRUE(services.services[0].health.empty());  // the bad probe is left out
  EXPECT_EQ(services.warnings,
            std::vector<std::string>{"agent.toml:3: service.api.health[0].type: expected one of "
                                     "http, tcp, command, got \"ftp\""});
}

TEST(ConfigReaders, ASyntaxErrorIsLenientlyAWarningAndEveryDefault) {
  const agent::AgentConfig config =
      agent::parseAgentConfig("[spool\n", "agent.toml", Strictness::lenient);
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_EQ(config.warnings[0].rfind("agent.toml:1: ", 0), 0u) << config.warnings[0];
  EXPECT_EQ(config.spool.dir, agent::kDefaultSpoolDir);
}

}  // namespace
}  // namespace octolaunch::config
