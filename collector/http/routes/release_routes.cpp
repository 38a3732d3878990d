// POST /api/v1/releases (JSON object with at least "id" and "service"), GET /api/v1/releases,
// GET /api/v1/releases/{id}. Minimal: registering an id again keeps the stored fields and adds
// new ones; a different service for the same id is 409. Issue 4 completes the merge rules.
#include "collector/http/routes/routes.h"

namespace octolaunch::http {

namespace {

std::string requiredString(const nlohmann::json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw HttpError(400, std::string(field) + ": required, a non-empty string");
  }
  const std::string& value = it->get_ref<const std::string&>();
  if (value.size() > 256 || value.find('\0') != std::string::npos) {
    throw HttpError(400, std::string(field) + ": at most 256 bytes, no NUL");
  }
  return value;
}

}  // namespace

void registerReleaseRoutes(Router& router, ApiContext& api) {
  router.post("/api/v1/releases", [&api](const httplib::Request& req) {
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) throw HttpError(400, "body: not valid JSON");
    if (!body.is_object()) throw HttpError(400, "body: expected a JSON object");
    const std::string id = requiredString(body, "id");
    const std::string service = requiredString(body, "service");
    bool created = false;
    nlohmann::json stored;
    api.writer.run([&] {
      stored = api.releases.modify(id, [&](const std::optional<nlohmann::json>& current) {
        if (!current) {
          created = true;
          nlohmann::json doc = body;
          doc["registered_at"] = formatRfc3339Ns(api.clock.nowNs());
          return doc;
        }
        if ((*current).value("service", "") != service) {
          throw HttpError(409, "release " + id + " is registered with service \"" +
                                   (*current).value("service", "") + "\", not \"" + service + "\"");
        }
        nlohmann::json doc = *current;
        for (const auto& [key, value] : body.items()) {
          if (!doc.contains(key)) doc[key] = value;
        }
        return doc;
      });
    });
    return JsonReply{created ? 201 : 200, std::move(stored)};
  });

  router.get("/api/v1/releases", [&api](const httplib::Request&) {
    nlohmann::json releases = nlohmann::json::array();
    for (nlohmann::json& r : api.releases.list()) releases.push_back(std::move(r));
    return JsonReply{200, {{"releases", std::move(releases)}}};
  });

  router.get(R"(/api/v1/releases/([^/]+))", [&api](const httplib::Request& req) {
    const std::string id = req.matches[1];
    auto doc = api.releases.get(id);
    if (!doc) throw HttpError(404, "release " + id + " not found");
    return JsonReply{200, std::move(*doc)};
  });
}

}  // namespace octolaunch::http
