// Whether this test binary (and so the binaries of its build, built with the same flags) runs
// under AddressSanitizer. Its allocator keeps freed memory in a quarantine (256 MiB by default)
// and returns little to the system, so bounds on a process's resident memory hold only in a
// normal build: tests check them there and say so when they do not.
#pragma once

namespace octolaunch::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace octolaunch::testing
