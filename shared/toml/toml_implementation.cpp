// toml++'s implementation, compiled once into our own archive (octolaunch_shared_toml) instead of
// loaded from Debian's libtomlplusplus.so: see the top-level CMakeLists.txt for why. Every other
// file includes <toml++/toml.h> with TOML_HEADER_ONLY=0 and gets only the declarations.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
