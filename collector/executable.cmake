# The collector daemon and the `octolaunch` CLI (included by collector/CMakeLists.txt). The CLI
# links only its HTTP client code, never the collector's store or analysis.
add_executable(octolaunch-collector ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
target_link_libraries(octolaunch-collector PRIVATE
  octolaunch_collector_config octolaunch_collector_ingest octolaunch_collector_analysis
  octolaunch_collector_http octolaunch_collector_store octolaunch_collector_retention CLI11::CLI11 octolaunch_log
  octolaunch_shared_systemd octolaunch_shared_config octolaunch_shared_log)

add_executable(octolaunch ${CMAKE_CURRENT_SOURCE_DIR}/cli/cli_main.cpp)
target_link_libraries(octolaunch PRIVATE octolaunch_collector_cli)
