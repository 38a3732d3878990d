// Reading query parameters and JSON bodies: every malformed value is an HttpError(400) naming
// the parameter.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace octolaunch::http {

// Throws 400 "unknown parameter 'x'" for a parameter not in allowed.
void requireKnownParams(const httplib::Request& req,
                        std::initializer_list<std::string_view> allowed);
// The value, or "" when absent. Throws 400 when given twice, longer than 256 bytes or holding a
// NUL byte. (The router has already refused values that are not UTF-8.)
std::string stringParam(const httplib::Request& req, const char* name);
// RFC 3339 or integer nanoseconds; nullopt when absent.
std::optional<std::int64_t> timeParam(const httplib::Request& req, const char* name);
// An integer in [min, max]; fallback when absent.
std::uint64_t intParam(const httplib::Request& req, const char* name, std::uint64_t fallback,
                       std::uint64_t min, std::uint64_t max);

// The request body as a JSON object. Throws 400 "body: expected a JSON object" otherwise.
nlohmann::json objectBody(const httplib::Request& req);

}  // namespace octolaunch::http
