#include "agent/sources/health/health_source.h"

#include <algorithm>

#include "agent/sources/health/health_monitor.h"
#include "agent/sources/health/health_probe.h"

namespace octolaunch::sources {

namespace {

class HealthSource final : public Source {
 public:
  HealthSource(asio::io_context& io, EventOut& out, const HealthConfig& config)
      : prober_(io), monitor_(io, config.services, prober_, out, config.deploysDir) {}
  std::string_view name() const override { return monitor_.name(); }
  bool start() override { return monitor_.start(); }
  void stop() override { monitor_.stop(); }

 private:
  AsioHealthProber prober_;
  HealthMonitor monitor_;  // declared after the prober it uses: destroyed first
};

}  // namespace

std::unique_ptr<Source> makeHealthSource(asio::io_context& io, EventOut& out,
                                         const HealthConfig& config) {
  const bool anyProbes =
      std::any_of(config.services.begin(), config.services.end(),
                  [](const services::ServiceConfig& s) { return !s.health.empty(); });
  if (!anyProbes) return nullptr;
  return std::make_unique<HealthSource>(io, out, config);
}

}  // namespace octolaunch::sources
