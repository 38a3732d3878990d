// Masking text with a user's RE2 pattern: the agent's [redact] patterns and the collector's
// `events purge --match` follow the same rule, kept here once.
//
// Rule: every match becomes "***"; when the pattern has a capture group, only the first group
// is masked (so `(?:token=)(\w+)` keeps the key name visible). Empty matches and an empty first
// group mask nothing.
//
// Contract
//  * Patterns are compiled as Latin-1 (byte-wise): stored and spooled text may hold escaped or
//    arbitrary bytes, and a pattern must match them as the bytes they are.
//  * RE2 only: time linear in the text length, whatever the input.
// Threads: a compiled re2::RE2 is immutable; any thread may mask with it.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>

namespace octolaunch {

// The options every mask pattern is compiled with (Latin-1, errors not logged by RE2).
re2::RE2::Options maskPatternOptions();

// Compiles pattern with maskPatternOptions(). The result may not be ok(): its error() names
// RE2's complaint.
std::unique_ptr<re2::RE2> compileMaskPattern(std::string_view pattern);

// Masks every match of re in text by the rule above; returns true when text changed.
bool maskMatches(std::string& text, const re2::RE2& re);

}  // namespace octolaunch
