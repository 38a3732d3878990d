# Read by cpack for each package it builds (CPACK_PROJECT_CONFIG_FILE): what depends on the
# version being packaged, which `cpack -D CPACK_PACKAGE_VERSION=...` may change.
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_RECOMMENDS "octolaunch-cli (= ${CPACK_PACKAGE_VERSION})")
