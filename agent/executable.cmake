# The octolaunch-agent executable (included by agent/CMakeLists.txt when main.cpp exists).
add_executable(octolaunch-agent ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
# Unused sections of the static archives stay out of the binary.
target_link_options(octolaunch-agent PRIVATE LINKER:--gc-sections)
target_link_libraries(octolaunch-agent PRIVATE
  octolaunch_agent_config octolaunch_agent_hook octolaunch_agent_ship octolaunch_agent_redact
  octolaunch_sources octolaunch_services octolaunch_shared CLI11::CLI11
  spdlog::spdlog CapnProto::kj-async)
# `parse` comes from agent/parse when that component is in the tree.
if(TARGET octolaunch_parse)
  target_link_libraries(octolaunch-agent PRIVATE octolaunch_parse)
  target_compile_definitions(octolaunch-agent PRIVATE OCTOLAUNCH_HAVE_PARSE)
endif()
