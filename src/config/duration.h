// Duration text used by every time-valued config field.
//
// Accepted: integers with unit suffixes ("250ms", "10s", "5m", "2h", "30d"),
// several of them largest unit first ("1m30s", "1h0m15s", "1s500ms"), or a
// bare integer meaning milliseconds ("1500"). A leading '-' parses (so the
// validator, not the parser, can say "must be >= 0s, got -1s"). Anything else is
// rejected rather than guessed at: "1.5s", "10parsecs", "30s1m" and "1m30" are
// errors.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wal::config {

// Parses `text` as described above. The error message is the reason only (the
// caller adds source and field path).
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The shortest exact text for `duration`, using the largest unit that divides it:
// 90000ms -> "90s", 3600000ms -> "1h", 1500ms -> "1500ms", 0 -> "0s".
// ParseDuration(FormatDuration(d)) == d for every d.
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace wal::config
