#include "agent/deploy/image_inspect.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/services/shell_command.h"

namespace octolaunch::deploy {

namespace {

constexpr std::size_t kMaxOutput = 1 << 20;

// Image and container references are passed to a shell: allow only the characters they can hold.
bool isSafeReference(const std::string& reference) {
  return !reference.empty() && reference.size() <= 512 && reference.front() != '-' &&
         std::all_of(reference.begin(), reference.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '/' || c == ':' || c == '@';
         });
}

// Runs `<cli> <args>` with docker, then podman; returns the first JSON answer that parses.
bool askCli(const std::string& args, std::chrono::milliseconds timeout, nlohmann::json& out,
            std::string& via, std::string& error) {
  std::string errors;
  for (const char* cli : {"docker", "podman"}) {
    services::CommandResult result =
        services::runShellCommand(std::string("command -v ") + cli +
                                      " >/dev/null 2>&1 || exit 127; " + cli + " " + args + " 2>&1",
                                  timeout, kMaxOutput);
    if (result.ok()) {
      out = nlohmann::json::parse(result.output, nullptr, false);
      if (!out.is_discarded()) {
        via = cli;
        return true;
      }
      result.error = "unexpected output";
    }
    if (result.exitCode == 127) continue;  // no such CLI
    std::string firstLine = result.output.substr(0, result.output.find('\n'));
    errors += std::string(errors.empty() ? "" : "; ") + cli + ": " + result.error +
              (firstLine.empty() ? "" : " (" + firstLine.substr(0, 200) + ")");
  }
  error = errors.empty() ? "neither docker nor podman is installed" : errors;
  return false;
}

void readRepoDigests(ImageObservation& obs, const std::string& reference,
                     std::chrono::milliseconds timeout) {
  nlohmann::json json;
  if (!askCli("image inspect --format '{{json .RepoDigests}}' " + reference, timeout, json, obs.via,
              obs.error)) {
    return;
  }
  if (json.is_array()) {
    for (const auto& d : json) {
      if (d.is_string()) obs.repoDigests.push_back(d.get<std::string>());
    }
  }
  if (obs.repoDigests.empty()) {
    obs.error =
        "image " + reference + " has no RepoDigests (built locally, or never pushed/pulled)";
  }
}

}  // namespace

ImageObservation inspectImage(const std::string& reference, std::chrono::milliseconds timeout) {
  ImageObservation obs;
  obs.image = reference;
  if (!isSafeReference(reference)) {
    obs.error = "not an image reference: \"" + reference + "\"";
    return obs;
  }
  readRepoDigests(obs, reference, timeout);
  return obs;
}

ImageObservation inspectContainerImage(const std::string& container,
                                       std::chrono::milliseconds timeout) {
  ImageObservation obs;
  obs.container = container;
  if (!isSafeReference(container)) {
    obs.error = "not a container name: \"" + container + "\"";
    return obs;
  }
  nlohmann::json json;
  if (!askCli("container inspect --format '{{json .Image}}' " + container, timeout, json, obs.via,
              obs.error)) {
    return obs;
  }
  if (!json.is_string() || !isSafeReference(json.get<std::string>())) {
    obs.error = "container " + container + ": no image id in inspect output";
    return obs;
  }
  obs.image = json.get<std::string>();
  readRepoDigests(obs, obs.image, timeout);
  return obs;
}

std::string pickDigest(const std::string& image, const std::vector<std::string>& repoDigests) {
  // The repository of "registry:5000/app:tag" is "registry:5000/app".
  std::string repository = image.substr(0, image.find('@'));
  const auto slash = repository.rfind('/');
  const auto colon = repository.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    repository.resize(colon);
  std::string chosen;
  for (const auto& d : repoDigests) {
    const auto at = d.find('@');
    if (at == std::string::npos) continue;
    if (chosen.empty() || d.substr(0, at) == repository) chosen = d.substr(at + 1);
    if (d.substr(0, at) == repository) break;
  }
  return chosen;
}

}  // namespace octolaunch::deploy
