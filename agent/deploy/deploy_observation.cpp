#include "agent/deploy/deploy_observation.h"

#include <cstdlib>
#include <exception>
#include <fstream>
#include <map>
#include <span>

#include "agent/config/agent_config.h"
#include "agent/deploy/image_inspect.h"
#include "agent/services/deploy_record.h"
#include "agent/services/env_file.h"
#include "agent/services/shell_command.h"

namespace octolaunch::deploy {

using services::CommandResult;
using services::FingerprintKey;
using services::ServiceConfig;
using services::sha256FileHex;

namespace {

constexpr std::size_t kMaxCommandOutput = std::size_t{64} << 20;

struct Entry {
  std::string name;
  std::string kind;
  std::string hmac;
};

void setFingerprint(schema::Fingerprint::Builder fingerprint, const std::vector<Entry>& entries,
                    const FingerprintKey& key) {
  fingerprint.setKeyId(key.id());
  auto list = fingerprint.initEntries(static_cast<unsigned>(entries.size()));
  for (unsigned i = 0; i < entries.size(); ++i) {
    list[i].setName(entries[i].name.c_str());
    list[i].setKind(entries[i].kind.c_str());
    list[i].setHmac(entries[i].hmac.c_str());
  }
}

// Files that cannot be read are "missing" (absent) or "unreadable" (present, e.g. no permission).
Entry fileEntry(const std::filesystem::path& path, const FingerprintKey& key,
                std::vector<std::string>& notes) {
  std::string error;
  if (auto hmac = key.hmacFileHex(path, &error)) return {path.string(), "file", *hmac};
  std::error_code ec;
  const bool exists = std::filesystem::exists(path, ec);
  notes.push_back(error);
  return {path.string(), "file", exists ? "unreadable" : "missing"};
}

void observeArtifacts(const ServiceConfig& service, const ObserveOptions& options, std::int64_t now,
                      EventList& out, std::vector<std::string>& notes) {
  if (!service.artifact.empty()) {
    std::string error;
    auto digest = sha256FileHex(service.artifact, &error);
    auto artifact = out.add(now, service.name, options.release).getPayload().initArtifactObserved();
    artifact.setPath(service.artifact.c_str());
    if (digest) {
      artifact.setDigest(("sha256:" + *digest).c_str());
    } else {
      notes.push_back("artifact: " +
                      error);  // digest left empty: the collector sees "not observed"
    }
  }
  auto addImage = [&](const ImageObservation& obs) {
    auto artifact = out.add(now, service.name, options.release).getPayload().initArtifactObserved();
    artifact.setContainer(obs.container.c_str());
    artifact.setPath(obs.image.c_str());
    artifact.setDigest(pickDigest(obs.image, obs.repoDigests).c_str());
    auto digests = artifact.initImageDigests(static_cast<unsigned>(obs.repoDigests.size()));
    for (unsigned i = 0; i < obs.repoDigests.size(); ++i)
      digests.set(i, obs.repoDigests[i].c_str());
    if (!obs.error.empty()) notes.push_back("image: " + obs.error);
  };
  if (!service.image.empty()) addImage(inspectImage(service.image, options.imageInspectTimeout));
  // A container's running image, unless the configured image already says it.
  if (service.image.empty()) {
    for (const auto& container : service.containers) {
      addImage(inspectContainerImage(container, options.imageInspectTimeout));
    }
  }
}

// Variables from the env files (later files win), then, with env_from_process, the process
// environment.
std::optional<std::string> lookupEnv(const std::string& name,
                                     const std::vector<std::map<std::string, std::string>>& files,
                                     const ServiceConfig& service, const ObserveOptions& options) {
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    if (auto found = it->find(name); found != it->end()) return found->second;
  }
  if (service.envFromProcess && options.processEnv) return options.processEnv(name);
  return std::nullopt;
}

void observeConfig(const ServiceConfig& service, const FingerprintKey& key,
                   const ObserveOptions& options, std::int64_t now, EventList& out,
                   std::vector<std::string>& notes) {
  if (service.configFiles.empty() && service.env.empty()) return;
  std::vector<Entry> entries;
  for (const auto& file : service.configFiles) entries.push_back(fileEntry(file, key, notes));
  std::vector<std::map<std::string, std::string>> envFiles;
  for (const auto& file : service.envFiles) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      notes.push_back("env_file " + file.string() + ": cannot read");
      continue;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    envFiles.push_back(services::parseEnvFile(text));
  }
  for (const auto& name : service.env) {
    auto value = lookupEnv(name, envFiles, service, options);
    entries.push_back({name, "env", value ? key.hmacHex(name + "=" + *value) : "missing"});
  }
  setFingerprint(out.add(now, service.name, options.release).getPayload().initConfigFingerprint(),
                 entries, key);
}

void observeDependencies(const ServiceConfig& service, const FingerprintKey& key,
                         const ObserveOptions& options, std::int64_t now, EventList& out,
                         std::vector<std::string>& notes) {
  if (service.dependencyManifests.empty() && service.dependencyCommands.empty()) return;
  std::vector<Entry> entries;
  for (const auto& file : service.dependencyManifests)
    entries.push_back(fileEntry(file, key, notes));
  for (const auto& command : service.dependencyCommands) {
    CommandResult result = services::runShellCommand(command, service.dependencyCommandTimeout,
                                                     kMaxCommandOutput, service.runAs);
    if (result.ok() && !result.truncated) {
      entries.push_back({command, "command", key.hmacHex(result.output)});
    } else {
      notes.push_back("dependency command \"" + command + "\": " +
                      (result.truncated ? std::string("output over 64 MiB") : result.error));
      entries.push_back({command, "command", "failed"});
    }
  }
  setFingerprint(
      out.add(now, service.name, options.release).getPayload().initDependencyFingerprint(), entries,
      key);
}

}  // namespace

EnvLookup processEnvLookup() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

void observeDeploy(const ServiceConfig& service, const FingerprintKey& key,
                   const ObserveOptions& options, const Clock& clock, EventList& out,
                   std::vector<std::string>& notes) {
  const std::int64_t now = clock.nowNs();
  observeArtifacts(service, options, now, out, notes);
  observeConfig(service, key, options, now, out, notes);
  observeDependencies(service, key, options, now, out, notes);
}

DeployObservationResult observeForDeploy(const agent::AgentConfig& config,
                                         const std::string& service, const std::string& release,
                                         EventSink& sink, const Clock& clock,
                                         const EnvLookup& processEnv) {
  DeployObservationResult result;
  try {
    // deploy reads leniently: a problem in the file is a warning, never a failed deploy.
    services::ServicesConfig configured =
        services::parseServicesConfig(config.raw, config::Strictness::lenient);
    result.warnings = configured.warnings;
    const ServiceConfig* found = configured.find(service);
    if (found == nullptr) return result;  // nothing configured to observe for this service
    // The key is needed only for fingerprints; an artifact-only service works without one.
    std::optional<services::LoadedFingerprintKey> key;
    if (services::needsFingerprintKey(*found)) {
      try {
        key.emplace(services::loadFingerprintKey(configured.fingerprint, config.spool.dir));
        // Said once, when the per-host key is made (the daemon repeats it in its log at start).
        if (key->warning && key->generatedNow) result.warnings.push_back(*key->warning);
      } catch (const std::exception& e) {
        result.warnings.push_back(std::string("config/dependency fingerprints skipped: ") +
                                  e.what());
      }
    }
    ServiceConfig observed = *found;
    if (!key) {
      observed.configFiles.clear();
      observed.env.clear();
      observed.dependencyManifests.clear();
      observed.dependencyCommands.clear();
    }
    ObserveOptions options;
    options.release = release;
    options.processEnv = processEnv;
    EventList events;
    const FingerprintKey unusedKey("");
    observeDeploy(observed, key ? key->key : unusedKey, options, clock, events, result.warnings);
    if (events.empty()) return result;
    auto readers = events.readers();
    result.appended = sink.append(std::span<const schema::Event::Reader>(readers));
  } catch (const std::exception& e) {
    result.warnings.push_back(std::string("deploy observation failed: ") + e.what());
  }
  return result;
}

std::optional<std::string> recordDeployFinish(const agent::AgentConfig& config,
                                              const std::string& service,
                                              const std::string& release, std::string_view outcome,
                                              const Clock& clock) {
  if (!services::isValidServiceName(service))
    return std::nullopt;  // not a configurable service: nothing to watch
  try {
    services::writeDeployRecord(
        config.spool.dir,
        services::DeployRecord{service, release, clock.nowNs(), std::string(outcome)});
  } catch (const std::exception& e) {
    return std::string("health watch not started: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace octolaunch::deploy
