# install() rules and the Debian packages (included last by the top-level CMakeLists.txt).
#
# Three components, one package each:
#   agent      octolaunch-agent      the agent daemon and its hook/deploy commands
#   collector  octolaunch-collector  the collector daemon
#   cli        octolaunch-cli        the `octolaunch` client alone, for CI runners
# The collector package Recommends the CLI (same version) instead of Depending on it: the daemon
# runs without it, an admin usually wants it beside the collector, and a CI runner installs the
# CLI alone (docs/operating.md).
#
# A normal build makes no package: `ninja packages` (or `cpack -G DEB` after a build) writes
# build/packages/*.deb. The version of every package is the project version.
include(GNUInstallDirs)

set(_pkg_dir ${PROJECT_SOURCE_DIR}/packaging)
set(_pkg_gen ${CMAKE_BINARY_DIR}/packaging)
# Debian 12's places (before the /usr merge of package contents).
set(OCTOLAUNCH_UNIT_DIR /lib/systemd/system CACHE PATH "Where the systemd units are installed")
set(OCTOLAUNCH_CONFIG_DIR /etc/octolaunch CACHE PATH "Where the default config files are installed")

# octolaunch_package(COMPONENT PROGRAM [DAEMON USER STATE_DIRS...]): the program, its man page,
# the copyright and changelog every Debian package carries, and for a daemon its unit, default
# config (a conffile), sysusers.d and tmpfiles.d files and maintainer scripts.
function(octolaunch_package component program)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "PACKAGE;DAEMON;USER" "STATE_DIRS")
  set(doc_dir ${CMAKE_INSTALL_DATAROOTDIR}/doc/${arg_PACKAGE})
  install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ${component})

  # The man page comes from the program's --help, written when installing: a normal build needs
  # no help2man.
  set(man ${_pkg_gen}/man/${program}.1.gz)
  install(CODE "
    file(MAKE_DIRECTORY ${_pkg_gen}/man)
    execute_process(COMMAND sh ${_pkg_dir}/man/make-manpage.sh $<TARGET_FILE_DIR:${program}> ${program} ${man}
                    COMMAND_ERROR_IS_FATAL ANY)"
    COMPONENT ${component})
  install(FILES ${man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${component})

  set(OCTOLAUNCH_PACKAGE ${arg_PACKAGE})
  configure_file(${_pkg_dir}/debian/changelog.in ${_pkg_gen}/${arg_PACKAGE}/changelog @ONLY)
  install(CODE "
    execute_process(COMMAND gzip -9nc ${_pkg_gen}/${arg_PACKAGE}/changelog
                    OUTPUT_FILE ${_pkg_gen}/${arg_PACKAGE}/changelog.gz COMMAND_ERROR_IS_FATAL ANY)"
    COMPONENT ${component})
  install(FILES ${_pkg_gen}/${arg_PACKAGE}/changelog.gz DESTINATION ${doc_dir}
          RENAME changelog.gz COMPONENT ${component})
  install(FILES ${_pkg_dir}/debian/copyright DESTINATION ${doc_dir} COMPONENT ${component})

  if(NOT arg_DAEMON)
    return()
  endif()
  install(FILES ${_pkg_dir}/systemd/${program}.service DESTINATION ${OCTOLAUNCH_UNIT_DIR}
          COMPONENT ${component})
  install(FILES ${_pkg_dir}/config/${arg_DAEMON}.toml DESTINATION ${OCTOLAUNCH_CONFIG_DIR}
          COMPONENT ${component})
  install(FILES ${_pkg_dir}/sysusers/${program}.conf
          DESTINATION lib/sysusers.d COMPONENT ${component})
  install(FILES ${_pkg_dir}/tmpfiles/${program}.conf
          DESTINATION lib/tmpfiles.d COMPONENT ${component})

  # The control files of the package: its conffiles and maintainer scripts.
  set(control ${_pkg_gen}/${arg_PACKAGE}/control)
  set(CONFIG_FILE ${OCTOLAUNCH_CONFIG_DIR}/${arg_DAEMON}.toml)
  set(PACKAGE ${program})
  set(USER ${arg_USER})
  list(JOIN arg_STATE_DIRS " " STATE_DIRS)
  file(WRITE ${control}/conffiles "${CONFIG_FILE}\n")
  foreach(script postinst prerm postrm)
    configure_file(${_pkg_dir}/debian/${script}.in ${control}/${script} @ONLY)
  endforeach()
  string(TOUPPER ${component} upper)
  set(CPACK_DEBIAN_${upper}_PACKAGE_CONTROL_EXTRA
      ${control}/conffiles ${control}/postinst ${control}/prerm ${control}/postrm PARENT_SCOPE)
endfunction()

octolaunch_package(agent octolaunch-agent PACKAGE octolaunch-agent DAEMON agent
                   USER octolaunch-agent STATE_DIRS /var/lib/octolaunch-agent)
octolaunch_package(collector octolaunch-collector PACKAGE octolaunch-collector DAEMON collector
                   USER octolaunch-collector STATE_DIRS /var/lib/octolaunch-collector)
octolaunch_package(cli octolaunch PACKAGE octolaunch-cli)

# One completion script serves both programs: it reads each one's --help.
foreach(program octolaunch octolaunch-agent)
  if(program STREQUAL octolaunch)
    set(component cli)
  else()
    set(component agent)
  endif()
  install(FILES ${_pkg_dir}/completion/octolaunch.bash
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions RENAME ${program}
          COMPONENT ${component})
endforeach()

# --- CPack: one .deb per component --------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME octolaunch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The OctoLaunch authors")
set(CPACK_PACKAGE_CONTACT "The OctoLaunch authors <octolaunch@example.org>")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_COMPONENTS_ALL agent collector cli)
set(CPACK_STRIP_FILES ON)
# Directories made while installing are 0755 whatever the umask of the build.
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Maintainer scripts 0755, conffiles 0644, as dpkg expects.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME octolaunch-agent)
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_NAME octolaunch-collector)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME octolaunch-cli)
# The maintainer scripts use systemd-sysusers and systemd-tmpfiles (deb-systemd-helper is in the
# essential init-system-helpers).
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS systemd)
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_DEPENDS systemd)
# Recommends: octolaunch-cli of the same version (cpack_project_config.cmake).
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_SOURCE_DIR}/cmake/cpack_project_config.cmake)

# The first line is the synopsis; Debian wants every line under 80 columns.
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "OctoLaunch agent: deploy hooks and host failure evidence
The agent daemon records what happens on a host during and after a
deploy (kernel OOM kills, failed units, container exits, pressure, full
disks) and ships it to the OctoLaunch collector. Deploy jobs run
`octolaunch-agent hook` and `deploy` to record their commands; members
of the octolaunch-deploy group may hand their records to the agent.")
set(CPACK_COMPONENT_COLLECTOR_DESCRIPTION
    "OctoLaunch collector: stores deploy evidence and ranks causes
The collector daemon receives the events of OctoLaunch agents, stores
them, links them to releases and ranks the likely causes of a failed
release. It serves an HTTP API, which the octolaunch command (package
octolaunch-cli) queries.")
set(CPACK_COMPONENT_CLI_DESCRIPTION
    "OctoLaunch command line client for CI jobs and operators
The octolaunch command registers releases and their pipeline stages
with the OctoLaunch collector and asks it why a release failed. It needs
neither the agent nor the collector on the same host.")

include(CPack)

# `ninja packages`: the three .deb files in build/packages/, from the current binaries.
add_custom_target(packages
  COMMAND ${CMAKE_CPACK_COMMAND} -G DEB --config ${CMAKE_BINARY_DIR}/CPackConfig.cmake
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  COMMENT "Building the Debian packages in ${CMAKE_BINARY_DIR}/packages"
  USES_TERMINAL VERBATIM)
add_dependencies(packages octolaunch-agent octolaunch-collector octolaunch)
