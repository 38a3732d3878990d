// The bearer tokens of the end-to-end tests' collectors: one of each scope, and the collector.toml
// that configures them.
#pragma once

#include <filesystem>
#include <fstream>

namespace octolaunch::testing {

inline constexpr const char* kReadToken = "read-token-0123456789";
inline constexpr const char* kWriteToken = "write-token-0123456789";
inline constexpr const char* kAdminToken = "admin-token-0123456789";

// Writes a collector.toml whose [http] tokens are the three above.
inline void writeTokenConfig(const std::filesystem::path& file) {
  std::ofstream(file) << "[http]\ntokens = [\n"
                      << "  { token = \"" << kReadToken << "\", scope = \"read\" },\n"
                      << "  { token = \"" << kWriteToken << "\", scope = \"write\" },\n"
                      << "  { token = \"" << kAdminToken << "\", scope = \"admin\" },\n]\n";
}

}  // namespace octolaunch::testing
