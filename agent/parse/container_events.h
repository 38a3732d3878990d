// Container failures from the Docker Engine API (also served by podman): the /events stream (Docker
// and podman's Docker-compatible API, and `podman events --format json`), the inspect body of
// GET /containers/{id}/json and the RepoDigests of GET /images/{id}/json.
// Pure: no I/O; never throws on any input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "octolaunch/schema/event.capnp.h"

namespace octolaunch::parse {

struct ContainerEvent {
  std::string type;    // "container", "image", ... (Docker "Type"; podman CLI "Type")
  std::string action;  // Docker "Action" / "status"; podman CLI "Status" ("died", ...)
  std::string id;      // Actor.ID / id / ID
  std::string name;    // Actor.Attributes.name / Name
  std::string image;   // Actor.Attributes.image / from / Image
  // Actor.Attributes.exitCode, else (die/died only: podman sets it to "0" on other events)
  // Actor.Attributes.containerExitCode; podman CLI: ContainerExitCode
  std::optional<std::int32_t> exitCode;
  std::int64_t timeNs = 0;  // timeNano, else time * 1e9, else podman CLI "Time" (RFC 3339)
};

// One event JSON object. Returns nullopt (and sets *error) for text that is not an event object.
std::optional<ContainerEvent> parseContainerEvent(std::string_view json,
                                                  std::string* error = nullptr);

struct ContainerFailure {
  enum class Kind { failed, oom };
  Kind kind = Kind::failed;
  std::string containerId;
  std::string name;
  std::string image;
  std::vector<std::string> imageDigests;  // RepoDigests of the image (from parseImageRepoDigests)
  std::int32_t exitCode = -1;
  std::string error;       // State.Error
  bool oomKilled = false;  // State.OOMKilled (an exit code of 137 alone is not an OOM)
  std::string action;      // "die", "died", "oom", "start-failed"; at start: "exited", "dead"
  std::int64_t timeNs = 0;
  bool atStart = false;  // found dead when the agent started (see parseContainerList)
};

// Turns events into failures: die/died with a non-zero exit code -> failed (oom_killed only when an
// oom event for it came first: an exit code of 137 alone is not an OOM); oom -> oom; a container
// that podman cleaned up after creating it without ever starting it -> failed ("start-failed").
// Docker reports no event for a failed start (create, then destroy on --rm): the live source has to
// inspect created containers for that. Keeps a bounded set of container ids. Not thread-safe.
class ContainerEventTracker final {
 public:
  explicit ContainerEventTracker(std::size_t maxTracked = 4096);
  std::optional<ContainerFailure> feed(const ContainerEvent& event);

 private:
  std::size_t maxTracked_;
  std::unordered_map<std::string, bool> started_;  // id -> started (created ones only)
  std::vector<std::string> order_;
  std::unordered_set<std::string> oomSeen_;  // ids with an oom event and no die yet
};

struct ContainerInspect {
  std::string id;
  std::string name;     // without the leading '/'
  std::string image;    // Config.Image (what the user asked for)
  std::string imageId;  // Image (the local image id, for GET /images/{id}/json)
  std::string status;   // State.Status
  std::int32_t exitCode = -1;
  bool oomKilled = false;
  std::string error;  // State.Error
  bool running = false;
  // podman's own inspect (GET /libpod/containers/{id}/json) only: the runtime and the file in the
  // container's run directory next to which the runtime leaves its log (oci-log).
  std::string ociRuntime;     // OCIRuntime, e.g. "crun"
  std::string conmonPidFile;  // ConmonPidFile
};

// The body of GET /containers/{id}/json. Returns nullopt (and sets *error) unless it is an object.
std::optional<ContainerInspect> parseContainerInspect(std::string_view json,
                                                      std::string* error = nullptr);

// Copies what inspect knows into a failure (fills empty fields; exit code, error, oom_killed from
// State; an OOM-killed container's failure keeps kind failed unless it came from an oom event).
void applyInspect(ContainerFailure& failure, const ContainerInspect& inspect);

// One entry of GET /containers/json?all=true.
struct ContainerSummary {
  std::string id;
  std::string name;   // the first of Names, without the leading '/'
  std::string image;  // Image
  std::string state;  // State: "created", "running", "exited", "dead", ...
};
// The body of GET /containers/json. nullopt (and *error) unless it is an array; entries that are
// not objects, or have no Id, are skipped.
std::optional<std::vector<ContainerSummary>> parseContainerList(std::string_view json,
                                                                std::string* error = nullptr);

// The runtime's error in the log podman 4 has the OCI runtime write ("--log <run dir>/oci-log",
// one JSON object a line: {"msg": ..., "level": "error", ...}): the last error's msg prefixed with
// the runtime's name, as podman prints it ("crun: executable file `/bin/nope` not found in $PATH:
// No such file or directory"); nullopt when it holds no error.
std::optional<std::string> ociLogError(std::string_view log, std::string_view runtime);

// RepoDigests of GET /images/{id}/json ("name@sha256:..."). nullopt (and *error) unless an object.
std::optional<std::vector<std::string>> parseImageRepoDigests(std::string_view json,
                                                              std::string* error = nullptr);

// Fills a container.failed / container.oom payload.
void fillContainerFailure(schema::ContainerFailure::Builder builder,
                          const ContainerFailure& failure);

}  // namespace octolaunch::parse
