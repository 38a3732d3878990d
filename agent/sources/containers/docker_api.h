// A minimal Docker Engine API client over a unix socket (Docker's /var/run/docker.sock, podman's
// /run/podman/podman.sock), HTTP/1.1 with Boost.Beast on the sources' io_context: one-shot GETs
// (inspect) and the streamed GET /events. Coroutines (asio::awaitable); io_context thread only.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/sources/asio.h"

namespace octolaunch::sources {

struct ApiReply {
  int status = 0;  // HTTP status; 0 when the daemon could not be reached
  std::string body;
  std::string error;  // transport error, when status is 0
};

// GET path on the socket (a fresh connection, "Connection: close"), bounded by timeout and a 4 MiB
// body. Never throws: failures come back in ApiReply::error.
asio::awaitable<ApiReply> apiGet(std::string socketPath, std::string path,
                                 std::chrono::milliseconds timeout);

// Streams GET path (e.g. "/events?since=..."): calls onLine for every newline-terminated line of
// the body as it arrives (chunked encoding undone). Returns when the daemon ends the stream or the
// connection fails (the reason in the result; "" for a clean end), or when the socket is closed
// through `cancel` (set to a function that closes it; valid until return).
asio::awaitable<std::string> apiStreamLines(std::string socketPath, std::string path,
                                            std::function<void(std::string_view)> onLine,
                                            std::function<void()>& cancel,
                                            std::function<void()> onConnected);

}  // namespace octolaunch::sources
