// Whether a name may be spliced into SQL unquoted (a table, schema or sequence
// name from a config): [A-Za-z_][A-Za-z0-9_]*, 1..max_length characters. Each
// caller picks the limit that leaves room for the suffixes it appends.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string_view>

namespace wal {

inline bool IsSqlIdentifier(std::string_view name, size_t max_length) {
  if (name.empty() || name.size() > max_length) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

}  // namespace wal
