#include "agent/services/health_source.h"

#include <algorithm>

#include "agent/config/agent_config.h"
#include "agent/services/deploy_record.h"
#include "agent/services/health_monitor.h"
#include "agent/services/health_probe.h"
#include "agent/services/services_config.h"

namespace octolaunch::services {

namespace {

// The monitor with the prober it runs probes through.
class HealthSource final : public sources::Source {
 public:
  HealthSource(sources::asio::io_context& io, std::vector<ServiceConfig> services, EventSink& sink,
               const Clock& clock, std::filesystem::path deploys, std::function<void()> wake)
      : prober_(io),
        monitor_(io, std::move(services), prober_, sink, clock, std::move(deploys),
                 std::move(wake)) {}
  std::string_view name() const override { return monitor_.name(); }
  bool start() override { return monitor_.start(); }
  void stop() override { monitor_.stop(); }

 private:
  AsioHealthProber prober_;
  HealthMonitor monitor_;  // declared after the prober it uses: destroyed first
};

}  // namespace

HealthSetup makeHealthSource(sources::asio::io_context& io, const agent::AgentConfig& config,
                             EventSink& sink, const Clock& clock, std::function<void()> wake) {
  ServicesConfig services = parseServicesConfig(config.raw);
  HealthSetup setup;
  setup.warnings = services.warnings;
  const bool anyFingerprints =
      std::any_of(services.services.begin(), services.services.end(), [](const ServiceConfig& s) {
        return !s.configFiles.empty() || !s.env.empty() || !s.dependencyManifests.empty() ||
               !s.dependencyCommands.empty();
      });
  if (anyFingerprints && !services.fingerprint.key && !services.fingerprint.keyFile) {
    setup.warnings.push_back(
        "no [fingerprint] key or key_file: config and dependency fingerprints use a per-host key "
        "in " +
        (config.spool.dir / "fingerprint.key").string() + " and cannot be compared across hosts");
  }
  const bool anyProbes = std::any_of(services.services.begin(), services.services.end(),
                                     [](const ServiceConfig& s) { return !s.health.empty(); });
  if (anyProbes) {
    setup.source = std::make_unique<HealthSource>(io, std::move(services.services), sink, clock,
                                                  deploysDir(config.spool.dir), std::move(wake));
  }
  return setup;
}

}  // namespace octolaunch::services
