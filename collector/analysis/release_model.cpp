#include "collector/analysis/release_model.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "shared/util/clock.h"

namespace octolaunch::analysis {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxField = 2048;

// Reads an optional string field; false (with error set) when present but not a sane string.
bool readString(const json& body, const char* key, std::string& out, std::string& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_string()) {
    error = std::string(key) + ": expected a string";
    return false;
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxField || s.find('\0') != std::string::npos) {
    error = std::string(key) + ": at most " + std::to_string(kMaxField) + " bytes, no NUL";
    return false;
  }
  out = s;
  return true;
}

// Reads a string or an array of strings under either key, appending unique values.
bool readStrings(const json& body, const char* one, const char* many, std::vector<std::string>& out,
                 std::string& error) {
  for (const char* key : {one, many}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    std::vector<json> items =
        it->is_array() ? it->get<std::vector<json>>() : std::vector<json>{*it};
    for (const auto& item : items) {
      if (!item.is_string() || item.get_ref<const std::string&>().empty() ||
          item.get_ref<const std::string&>().size() > kMaxField) {
        error = std::string(key) + ": expected a non-empty string or an array of them";
        return false;
      }
      const auto& s = item.get_ref<const std::string&>();
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
  }
  return true;
}

// A link a person will open from the advice: http or https, no whitespace or control characters
// (length is already bounded by kMaxField). Empty means absent and passes.
bool checkUrl(const char* key, const std::string& url, std::string& error) {
  if (url.empty()) return true;
  auto lower = [](std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string head = lower(std::string_view(url).substr(0, 8));
  const bool web = head.rfind("http://", 0) == 0 || head.rfind("https://", 0) == 0;
  const bool clean =
      std::none_of(url.begin(), url.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
  if (web && clean) return true;
  error = std::string(key) +
          ": expected an http:// or https:// URL without spaces or control "
          "characters";
  return false;
}

bool checkUrls(const char* key, const std::vector<std::string>& urls, std::string& error) {
  return std::all_of(urls.begin(), urls.end(),
                     [&](const std::string& url) { return checkUrl(key, url, error); });
}

bool readTime(const json& body, const char* key, std::int64_t& out, std::string& error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return true;
  if (it->is_number_integer()) {
    out = it->get<std::int64_t>();
    return true;
  }
  if (it->is_string()) {
    if (auto t = parseTimeNs(it->get_ref<const std::string&>())) {
      out = *t;
      return true;
    }
  }
  error = std::string(key) + ": expected RFC 3339 or integer nanoseconds";
  return false;
}

bool validId(const std::string& id) {
  if (id.empty() || id.size() > 200) return false;
  return std::all_of(id.begin(), id.end(),
                     [](unsigned char c) { return c > 0x20 && c != 0x7f && c != '/'; });
}

template <typename T>
void appendUnique(std::vector<T>& to, const std::vector<T>& from, bool& changed) {
  for (const auto& v : from) {
    if (std::find(to.begin(), to.end(), v) == to.end()) {
      to.push_back(v);
      changed = true;
    }
  }
}

void fillEmpty(std::string& to, const std::string& from, bool& changed) {
  if (to.empty() && !from.empty()) {
    to = from;
    changed = true;
  }
}

}  // namespace

const char* stageStatusName(StageStatus status) {
  switch (status) {
    case StageStatus::started:
      return "started";
    case StageStatus::ok:
      return "ok";
    case StageStatus::failed:
      return "failed";
  }
  return "started";
}

std::optional<StageStatus> parseStageStatus(const std::string& name) {
  if (name == "started") return StageStatus::started;
  if (name == "ok") return StageStatus::ok;
  if (name == "failed") return StageStatus::failed;
  return std::nullopt;
}

Parsed<StageReport> stageFromJson(const json& body, std::int64_t nowNs) {
  Parsed<StageReport> out;
  if (!body.is_object()) {
    out.error = "a stage must be a JSON object";
    return out;
  }
  StageReport s;
  std::string status;
  s.timeNs = nowNs;
  if (!readString(body, "name", s.name, out.error) ||
      !readString(body, "status", status, out.error) ||
      !readString(body, "job_url", s.jobUrl, out.error) ||
      !readTime(body, "time_ns", s.timeNs, out.error) ||
      !readTime(body, "time", s.timeNs, out.error) || !checkUrl("job_url", s.jobUrl, out.error)) {
    return out;
  }
  if (s.name.empty() || s.name.size() > 100) {
    out.error = "name: required, a stage name such as build, test, push, deploy";
    return out;
  }
  auto st = parseStageStatus(status);
  if (!st) {
    out.error = "status: expected started, ok or failed";
    return out;
  }
  s.status = *st;
  out.value = std::move(s);
  return out;
}

Parsed<Release> releaseFromJson(const json& body, std::int64_t nowNs) {
  Parsed<Release> out;
  if (!body.is_object()) {
    out.error = "a release must be a JSON object";
    return out;
  }
  Release r;
  std::string& e = out.error;
  if (!readString(body, "id", r.id, e) || !readString(body, "service", r.service, e) ||
      !readString(body, "version", r.version, e) || !readString(body, "commit", r.commit, e) ||
      !readString(body, "artifact_digest", r.artifactDigest, e) ||
      !readString(body, "artifact_uri", r.artifactUri, e) ||
      !readString(body, "ci_run_url", r.ciRunUrl, e) ||
      !readString(body, "environment", r.environment, e) ||
      !readStrings(body, "ci_job_url", "ci_job_urls", r.jobUrls, e) ||
      !readStrings(body, "target_host", "target_hosts", r.targetHosts, e) ||
      !checkUrl("ci_run_url", r.ciRunUrl, e) || !checkUrls("ci_job_urls", r.jobUrls, e)) {
    return out;
  }
  if (!validId(r.id)) {
    out.error = r.id.empty() ? "id: required, a non-empty string"
                             : "id: at most 200 printable characters, no spaces or '/'";
    return out;
  }
  if (r.service.empty()) {
    out.error = "service: required, a non-empty string";
    return out;
  }
  if (!r.artifactDigest.empty() && r.artifactDigest.find(':') == std::string::npos) {
    out.error = "artifact_digest: expected <algorithm>:<hex>, e.g. sha256:...";
    return out;
  }
  r.createdNs = nowNs;
  if (!readTime(body, "created_ns", r.createdNs, e)) return out;
  r.updatedNs = r.createdNs;
  if (!readTime(body, "updated_ns", r.updatedNs, e)) return out;
  if (auto it = body.find("stage_reports"); it != body.end() && it->is_array()) {
    for (const auto& s : *it) {
      auto st = stageFromJson(s, nowNs);
      if (!st.value) {
        out.error = "stage_reports: " + st.error;
        return out;
      }
      r.stages.push_back(*st.value);
    }
  }
  out.value = std::move(r);
  return out;
}

json releaseToJson(const Release& r) {
  json reports = json::array();
  for (const auto& s : r.stages) {
    json j = {{"name", s.name},
              {"status", stageStatusName(s.status)},
              {"time", formatRfc3339Ns(s.timeNs)},
              {"time_ns", s.timeNs}};
    if (!s.jobUrl.empty()) j["job_url"] = s.jobUrl;
    reports.push_back(std::move(j));
  }
  return {{"id", r.id},
          {"service", r.service},
          {"version", r.version},
          {"commit", r.commit},
          {"artifact_digest", r.artifactDigest},
          {"artifact_uri", r.artifactUri},
          {"ci_run_url", r.ciRunUrl},
          {"ci_job_urls", r.jobUrls},
          {"environment", r.environment},
          {"target_hosts", r.targetHosts},
          {"stages", stageStatesJson(stageStates(r))},
          {"stage_reports", reports},
          {"registered_at", formatRfc3339Ns(r.createdNs)},
          {"created_ns", r.createdNs},
          {"updated_ns", r.updatedNs}};
}

json stageStatesJson(const std::vector<StageState>& stages) {
  json out = json::array();
  for (const auto& s : stages) {
    json j = {{"name", s.name},
              {"status", stageStatusName(s.status)},
              {"started", formatRfc3339Ns(s.startedNs)},
              {"updated", formatRfc3339Ns(s.updatedNs)}};
    j["job_url"] = s.jobUrl.empty() ? json(nullptr) : json(s.jobUrl);
    out.push_back(std::move(j));
  }
  return out;
}

MergeResult mergeRelease(const Release& existing, const Release& incoming, std::int64_t nowNs) {
  MergeResult m;
  m.merged = existing;
  auto differs = [](const std::string& a, const std::string& b) {
    return !a.empty() && !b.empty() && a != b;
  };
  if (existing.service != incoming.service) m.conflicts.push_back("service");
  if (differs(existing.commit, incoming.commit)) m.conflicts.push_back("commit");
  if (differs(existing.artifactDigest, incoming.artifactDigest))
    m.conflicts.push_back("artifact_digest");
  if (!m.conflicts.empty()) return m;

  Release& r = m.merged;
  bool& changed = m.changed;
  fillEmpty(r.version, incoming.version, changed);
  fillEmpty(r.commit, incoming.commit, changed);
  fillEmpty(r.artifactDigest, incoming.artifactDigest, changed);
  fillEmpty(r.artifactUri, incoming.artifactUri, changed);
  fillEmpty(r.ciRunUrl, incoming.ciRunUrl, changed);
  fillEmpty(r.environment, incoming.environment, changed);
  appendUnique(r.jobUrls, incoming.jobUrls, changed);
  appendUnique(r.targetHosts, incoming.targetHosts, changed);
  for (const auto& s : incoming.stages) {
    if (addStage(r, s, nowNs)) changed = true;
  }
  if (changed) r.updatedNs = nowNs;
  return m;
}

bool addStage(Release& r, const StageReport& report, std::int64_t nowNs) {
  for (const auto& s : r.stages) {
    if (s.name == report.name && s.status == report.status && s.jobUrl == report.jobUrl)
      return false;
  }
  r.stages.push_back(report);
  if (!report.jobUrl.empty() &&
      std::find(r.jobUrls.begin(), r.jobUrls.end(), report.jobUrl) == r.jobUrls.end()) {
    r.jobUrls.push_back(report.jobUrl);
  }
  r.updatedNs = nowNs;
  return true;
}

std::vector<StageState> stageStates(const Release& r) {
  std::vector<StageState> out;
  for (const auto& s : r.stages) {
    auto it =
        std::find_if(out.begin(), out.end(), [&](const StageState& x) { return x.name == s.name; });
    if (it == out.end()) {
      out.push_back({s.name, s.status, s.jobUrl, s.timeNs, s.timeNs});
      continue;
    }
    // Reports may arrive out of order: the latest time wins; at equal times a final status wins.
    if (s.timeNs > it->updatedNs ||
        (s.timeNs == it->updatedNs && s.status != StageStatus::started)) {
      it->status = s.status;
      it->updatedNs = s.timeNs;
    }
    it->startedNs = std::min(it->startedNs, s.timeNs);
    if (!s.jobUrl.empty()) it->jobUrl = s.jobUrl;
  }
  return out;
}

std::string deployJobUrl(const Release& r) {
  for (const auto& s : stageStates(r)) {
    if (s.name == "deploy" && !s.jobUrl.empty()) return s.jobUrl;
  }
  if (!r.jobUrls.empty()) return r.jobUrls.back();
  return r.ciRunUrl;
}

}  // namespace octolaunch::analysis
