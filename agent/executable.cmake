# The octolaunch-agent executable (included by agent/CMakeLists.txt when main.cpp exists).
add_executable(octolaunch-agent ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
target_link_libraries(octolaunch-agent PRIVATE
  octolaunch_agent_config octolaunch_agent_hook octolaunch_agent_ship octolaunch_shared CLI11::CLI11
  spdlog::spdlog CapnProto::kj-async)
