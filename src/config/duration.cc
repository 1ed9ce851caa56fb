#include "config/duration.h"

#include <array>
#include <charconv>
#include <cstdint>

namespace wal::config {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t milliseconds;
};

// Largest first: FormatDuration picks the first unit that divides exactly.
constexpr std::array<Unit, 5> kUnits = {{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

Status BadDuration(std::string_view text) {
  return InvalidArgument("invalid duration \"" + std::string(text) +
                         "\": expected an integer with a unit (ms, s, m, h, d) such as \"250ms\" or \"10s\","
                         " or an integer number of milliseconds");
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && rest.front() == '-') {
    negative = true;
    rest.remove_prefix(1);
  }
  size_t digit_count = 0;
  while (digit_count < rest.size() && rest[digit_count] >= '0' && rest[digit_count] <= '9') ++digit_count;
  if (digit_count == 0) return BadDuration(text);

  int64_t magnitude = 0;
  auto [end, error] = std::from_chars(rest.data(), rest.data() + digit_count, magnitude);
  if (error != std::errc() || end != rest.data() + digit_count) {
    return InvalidArgument("duration \"" + std::string(text) + "\" is out of range");
  }

  std::string_view suffix = rest.substr(digit_count);
  int64_t unit_milliseconds = 0;
  if (suffix.empty()) {
    unit_milliseconds = 1;  // bare integers are milliseconds
  } else {
    for (const Unit& unit : kUnits) {
      if (suffix == unit.suffix) unit_milliseconds = unit.milliseconds;
    }
    if (unit_milliseconds == 0) return BadDuration(text);
  }

  int64_t total = 0;
  if (__builtin_mul_overflow(magnitude, unit_milliseconds, &total)) {
    return InvalidArgument("duration \"" + std::string(text) + "\" is out of range");
  }
  return std::chrono::milliseconds(negative ? -total : total);
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  int64_t count = duration.count();
  if (count == 0) return "0s";
  for (const Unit& unit : kUnits) {
    if (count % unit.milliseconds == 0) return std::to_string(count / unit.milliseconds) + std::string(unit.suffix);
  }
  return std::to_string(count) + "ms";  // unreachable: the "ms" unit divides everything
}

}  // namespace wal::config
