#include "collector/http/query_params.h"

#include <charconv>

#include "collector/http/router.h"
#include "shared/util/clock.h"

namespace octolaunch::http {

void requireKnownParams(const httplib::Request& req,
                        std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : req.params) {
    bool known = false;
    for (std::string_view a : allowed) known |= name == a;
    if (!known) throw HttpError(400, "unknown parameter '" + name + "'");
  }
}

std::string stringParam(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return "";
  if (req.get_param_value_count(name) > 1) {
    throw HttpError(400, std::string(name) + ": given more than once");
  }
  std::string value = req.get_param_value(name);
  if (value.size() > 256) throw HttpError(400, std::string(name) + ": longer than 256 bytes");
  if (value.find('\0') != std::string::npos) {
    throw HttpError(400, std::string(name) + ": contains a NUL byte");
  }
  return value;
}

std::optional<std::int64_t> timeParam(const httplib::Request& req, const char* name) {
  const std::string value = stringParam(req, name);
  if (value.empty()) return std::nullopt;
  auto ns = parseTimeNs(value);
  if (!ns) {
    throw HttpError(400, std::string(name) +
                             ": expected RFC 3339 time or integer nanoseconds, got \"" + value +
                             "\"");
  }
  return ns;
}

std::uint64_t intParam(const httplib::Request& req, const char* name, std::uint64_t fallback,
                       std::uint64_t min, std::uint64_t max) {
  const std::string value = stringParam(req, name);
  if (value.empty()) return fallback;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < min || n > max) {
    throw HttpError(400, std::string(name) + ": expected an integer from " + std::to_string(min) +
                             " to " + std::to_string(max) + ", got \"" + value + "\"");
  }
  return n;
}

nlohmann::json objectBody(const httplib::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    throw HttpError(400, "body: expected a JSON object");
  }
  return body;
}

}  // namespace octolaunch::http
