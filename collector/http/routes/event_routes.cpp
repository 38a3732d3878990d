// GET /api/v1/events?release=&host=&kind=&since=&until=&limit=&cursor=&order=
//   -> {"events": [eventJson...], "next_cursor": "..." | null}, oldest first, or newest first
//   with order=newest (the web UI's host page).
// limit defaults to 100, at most 10,000; since/until take RFC 3339 or integer nanoseconds.
#include "collector/http/query_params.h"
#include "collector/http/routes/routes.h"
#include "shared/event/event_json.h"

namespace octolaunch::http {

namespace {
constexpr std::uint64_t kDefaultLimit = 100;
constexpr std::uint64_t kMaxLimit = 10'000;
}  // namespace

void registerEventRoutes(Router& router, ApiContext& api) {
  router.get("/api/v1/events", [&api](const httplib::Request& req) {
    requireKnownParams(req,
                       {"release", "host", "kind", "since", "until", "limit", "cursor", "order"});
    EventQuery query;
    query.release = stringParam(req, "release");
    query.host = stringParam(req, "host");
    query.kind = stringParam(req, "kind");
    if (!query.kind.empty() && !isKnownKind(query.kind)) {
      throw HttpError(400, "kind: unknown kind \"" + query.kind + "\"");
    }
    if (query.kind == "hook.block") {  // stored and listed as its lines
      throw HttpError(400, "kind: hook.block is listed line by line: ask for hook.output");
    }
    query.sinceNs = timeParam(req, "since");
    query.untilNs = timeParam(req, "until");
    query.limit = intParam(req, "limit", kDefaultLimit, 1, kMaxLimit);
    query.cursor = stringParam(req, "cursor");
    const std::string order = stringParam(req, "order");
    if (order != "" && order != "oldest" && order != "newest") {
      throw HttpError(400, "order: expected oldest or newest, got \"" + order + "\"");
    }
    query.newestFirst = order == "newest";

    EventPage page = api.events.query(query);
    nlohmann::json events = nlohmann::json::array();
    for (const StoredEvent& stored : page.events) {
      withEvent(stored.bytes, [&](schema::Event::Reader e) { events.push_back(eventJson(e)); });
    }
    nlohmann::json body = {{"events", std::move(events)}, {"next_cursor", nullptr}};
    if (page.nextCursor) body["next_cursor"] = *page.nextCursor;
    return JsonReply{200, std::move(body)};
  });
}

}  // namespace octolaunch::http
