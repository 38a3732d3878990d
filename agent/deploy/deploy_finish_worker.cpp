#include "agent/deploy/deploy_finish_worker.h"

#include "agent/deploy/deploy_observation.h"

namespace octolaunch::deploy {

DeployFinishWorker::DeployFinishWorker(const agent::AgentConfig& config, EventSink& sink,
                                       const Clock& clock, std::shared_ptr<spdlog::logger> logger)
    : config_(config), sink_(sink), clock_(clock), logger_(std::move(logger)), thread_([this] {
        run();
      }) {}

DeployFinishWorker::~DeployFinishWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void DeployFinishWorker::post(std::string service, std::string release, std::string outcome) {
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() >= kMaxPending) {
      logger_->warn("deploy.finish of {} {} not observed: {} observations already waiting", service,
                    release, pending_.size());
      return;
    }
    pending_.push_back({std::move(service), std::move(release), std::move(outcome)});
  }
  wake_.notify_one();
}

void DeployFinishWorker::run() {
  for (;;) {
    Finished next;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      next = std::move(pending_.front());
      pending_.pop_front();
    }
    if (auto warning =
            recordDeployFinish(config_, next.service, next.release, next.outcome, clock_))
      logger_->warn("{} {}: {}", next.service, next.release, *warning);
    const auto result =
        observeForDeploy(config_, next.service, next.release, sink_, clock_, EnvLookup{});
    for (const auto& warning : result.warnings)
      logger_->warn("{} {}: {}", next.service, next.release, warning);
  }
}

}  // namespace octolaunch::deploy
