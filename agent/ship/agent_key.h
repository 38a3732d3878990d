// The agent's enrolled identity on disk (the `[ship] agent_key_file`, default <spool
// dir>/agent.key): mode 0600, JSON, written whole (temporary file, fsync, rename, fsync of the
// directory), so a crash leaves the old file or the new one, never a torn one.
//
// The key is bound to the agent id that was configured when it was made: a key file written for
// another configured id is not used (the agent enrolls again). agentId is the id the key was
// enrolled under; it differs from the configured one after this installation was found to be a
// clone and enrolled anew (rpc.capnp, Credentials).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace octolaunch::agent {

struct AgentKey {
  std::string configuredAgentId;
  std::string agentId;
  std::string key;
  std::uint64_t generation = 0;
  // Picked before a hello and saved with generation; 0 when no hello is pending.
  std::uint64_t nextGeneration = 0;
};

// nullopt when the file does not exist. Throws std::runtime_error naming the file when it cannot
// be read or is not a key file.
std::optional<AgentKey> loadAgentKey(const std::filesystem::path& path);
// Throws std::runtime_error naming the file when it cannot be written.
void saveAgentKey(const std::filesystem::path& path, const AgentKey& key);
// A random 64-bit value, never 0 (getrandom).
std::uint64_t randomGeneration();
// 8 random hex digits, for the agent id of a clone enrolled anew.
std::string randomSuffix();

}  // namespace octolaunch::agent
