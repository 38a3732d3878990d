#include "agent/parse/oom_kill.h"

namespace octolaunch::parse {

std::optional<OomReaped> parseOomReaped(std::string_view) { return std::nullopt; }

OomAssembler::OomAssembler() : OomAssembler(Options{}) {}
OomAssembler::OomAssembler(Options options) : options_(options) {}
std::vector<OomKill> OomAssembler::feed(const KernelMessage&) { return {}; }
std::vector<OomKill> OomAssembler::expire(std::uint64_t) { return {}; }
std::vector<OomKill> OomAssembler::finish() { return {}; }
std::vector<OomKill> OomAssembler::flushPending() { return {}; }

void fillOomKill(schema::OomKill::Builder, const OomKill&) {}

}  // namespace octolaunch::parse
