# Sanitizer and fuzzer builds (included by the top-level CMakeLists.txt; docs/testing.md says how
# to run them).
#
# OCTOLAUNCH_SANITIZE: empty (the default), "address,undefined" (a ";" list works too) or "thread".
# Every target of the project is compiled and linked with it; Debian's libraries (KJ, Cap'n Proto,
# LMDB, RE2, libstdc++) stay uninstrumented, which is why ThreadSanitizer needs
# tests/sanitizers/tsan.supp. UBSan findings abort instead of printing and carrying on.
#
# OCTOLAUNCH_BUILD_FUZZERS: builds the libFuzzer targets in tests/fuzz; needs clang++-14.
set(OCTOLAUNCH_SANITIZE "" CACHE STRING "Sanitizers to build with: address,undefined or thread")
option(OCTOLAUNCH_BUILD_FUZZERS "Build the libFuzzer targets in tests/fuzz (needs clang++-14)" OFF)

set(OCTOLAUNCH_SANITIZER_LIST "")
if(OCTOLAUNCH_SANITIZE)
  string(REPLACE "," ";" OCTOLAUNCH_SANITIZER_LIST "${OCTOLAUNCH_SANITIZE}")
  foreach(_san IN LISTS OCTOLAUNCH_SANITIZER_LIST)
    if(NOT _san MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "OCTOLAUNCH_SANITIZE: unknown sanitizer '${_san}' (address,undefined or thread)")
    endif()
  endforeach()
  if("thread" IN_LIST OCTOLAUNCH_SANITIZER_LIST AND "address" IN_LIST OCTOLAUNCH_SANITIZER_LIST)
    message(FATAL_ERROR "OCTOLAUNCH_SANITIZE: thread cannot be combined with address")
  endif()
  string(REPLACE ";" "," _san_flag "${OCTOLAUNCH_SANITIZER_LIST}")
  add_compile_options(-fsanitize=${_san_flag} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${_san_flag})
  if("undefined" IN_LIST OCTOLAUNCH_SANITIZER_LIST)
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  # GCC warns (-Wtsan, an error under OCTOLAUNCH_WERROR) that TSan does not model the
  # std::atomic_thread_fence calls of Boost.Asio's fenced blocks. Asio's handoffs also go through
  # its scheduler's mutex, which TSan does see; a race TSan wrongly reports there would show up.
  if("thread" IN_LIST OCTOLAUNCH_SANITIZER_LIST AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
  # GCC's manual: sanitizers raise the rate of false -Wmaybe-uninitialized warnings (here in KJ's
  # XThreadFulfiller<httplib::Response> under TSan); the normal build keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()

if(OCTOLAUNCH_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "OCTOLAUNCH_BUILD_FUZZERS needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# Every test of a sanitizer build runs through run-sanitized.sh: sanitizer options for the test and
# the binaries it starts, and a failed test for any report (docs/testing.md). CMake 3.25 puts a
# target's CROSSCOMPILING_EMULATOR in front of its tests (add_test, gtest_discover_tests) also in a
# native build.
if(OCTOLAUNCH_SANITIZE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${PROJECT_SOURCE_DIR}/tests/sanitizers/run-sanitized.sh)
endif()
