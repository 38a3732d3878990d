// What image a service's container runs, as the registry knows it: the image's RepoDigests
// ("registry/app@sha256:..."), which is what CI pushed — not the local image id.
//
// This asks the container CLI (`docker`, then `podman`) with `image inspect` / `container inspect`
// and a timeout; a Docker Engine API client over the unix socket would avoid the fork (the
// sources' container client can replace this behind the same function).
//
// Contract: never throws; an image that is unknown, has no RepoDigests (built locally, never
// pushed or pulled) or no CLI answers gives a result with `error` set and what was found so far.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace octolaunch::deploy {

struct ImageObservation {
  std::string image;                     // the reference asked about, or the container's image
  std::string container;                 // set when asked about a container
  std::vector<std::string> repoDigests;  // "registry/app@sha256:..."
  std::string via;                       // "docker" or "podman"
  std::string error;                     // empty when repoDigests were read
};

// `reference` is an image name, name:tag, name@digest or id.
ImageObservation inspectImage(const std::string& reference, std::chrono::milliseconds timeout);
// The image a container (name or id) runs, then that image's RepoDigests.
ImageObservation inspectContainerImage(const std::string& container,
                                       std::chrono::milliseconds timeout);

// "sha256:<hex>" from the RepoDigest that matches the image's repository (or the first one);
// empty when there is none.
std::string pickDigest(const std::string& image, const std::vector<std::string>& repoDigests);

}  // namespace octolaunch::deploy
