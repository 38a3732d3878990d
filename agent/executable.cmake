# The octolaunch-agent executable (included by agent/CMakeLists.txt).
add_executable(octolaunch-agent ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
# Unused sections of the static archives stay out of the binary.
target_link_options(octolaunch-agent PRIVATE LINKER:--gc-sections)
# With every C++ library linked statically (top-level CMakeLists.txt), libstdc++ can be too: the
# agent then maps only the parts of it that it calls instead of the whole shared library.
if(OCTOLAUNCH_STATIC_LIBS AND NOT OCTOLAUNCH_SANITIZE AND NOT OCTOLAUNCH_BUILD_FUZZERS)
  target_link_options(octolaunch-agent PRIVATE -static-libstdc++ -static-libgcc)
endif()
target_link_libraries(octolaunch-agent PRIVATE
  octolaunch_agent_config octolaunch_agent_hook octolaunch_agent_deploy octolaunch_agent_local
  octolaunch_agent_ship
  octolaunch_agent_redact octolaunch_agent_sources octolaunch_shared CLI11::CLI11
  octolaunch_agent_parse octolaunch_log octolaunch_shared_log CapnProto::kj-async
  octolaunch_shared_systemd octolaunch_shared_config)
