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
                         "\": expected integers with units (ms, s, m, h, d) such as \"250ms\", \"10s\" or"
                         " \"1m30s\", or an integer number of milliseconds");
}

Status OutOfRange(std::string_view text) {
  return InvalidArgument("duration \"" + std::string(text) + "\" is out of range");
}

// The unit `rest` starts with, or nullptr. "ms" is tried before "m" so that
// "5ms" is five milliseconds, not five minutes followed by garbage.
const Unit* UnitAtFront(std::string_view rest) {
  const Unit* found = nullptr;
  for (const Unit& unit : kUnits) {
    if (rest.substr(0, unit.suffix.size()) == unit.suffix &&
        (found == nullptr || unit.suffix.size() > found->suffix.size())) {
      found = &unit;
    }
  }
  return found;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && rest.front() == '-') {
    negative = true;
    rest.remove_prefix(1);
  }
  if (rest.empty()) return BadDuration(text);
  int64_t total = 0;
  // Each component's unit must be smaller than the one before, as people
  // write them ("1h30m"); "30m1h" or "1s1s" is more likely a slip than meant.
  int64_t previous_unit = INT64_MAX;
  while (!rest.empty()) {
    size_t digit_count = 0;
    while (digit_count < rest.size() && rest[digit_count] >= '0' && rest[digit_count] <= '9') ++digit_count;
    if (digit_count == 0) return BadDuration(text);
    int64_t magnitude = 0;
    auto [end, error] = std::from_chars(rest.data(), rest.data() + digit_count, magnitude);
    if (error != std::errc() || end != rest.data() + digit_count) return OutOfRange(text);
    rest.remove_prefix(digit_count);
    int64_t unit_milliseconds = 1;
    if (rest.empty()) {
      // A bare integer is milliseconds, but only on its own: in "1m30" the
      // trailing number's unit would be a guess.
      if (previous_unit != INT64_MAX) return BadDuration(text);
    } else {
      const Unit* unit = UnitAtFront(rest);
      if (unit == nullptr || unit->milliseconds >= previous_unit) return BadDuration(text);
      unit_milliseconds = unit->milliseconds;
      previous_unit = unit->milliseconds;
      rest.remove_prefix(unit->suffix.size());
    }
    int64_t component = 0;
    if (__builtin_mul_overflow(magnitude, unit_milliseconds, &component) ||
        __builtin_add_overflow(total, component, &total)) {
      return OutOfRange(text);
    }
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
