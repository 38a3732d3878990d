// The one way the agent's sources include Boost.Asio.
// g++ 12 with -std=c++20 fails inside boost/asio/awaitable.hpp (std::exchange undeclared) unless
// <utility> comes first; every source includes this header instead of <boost/asio.hpp>.
#pragma once

// clang-format off
#include <utility>  // must precede Boost.Asio (see above)
#include <boost/asio.hpp>
// clang-format on

namespace octolaunch::sources {
namespace asio = boost::asio;
}  // namespace octolaunch::sources
