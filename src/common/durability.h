// The three-valued answer to "is this write durable?".
#pragma once

#include <string_view>

namespace wal {

enum class Durability {
  kTrue,     // it is stored and survives kill -9 (and power loss on the embedded log)
  kFalse,    // it was not stored; the caller may retry
  kUnknown,  // it may or may not have been stored (fsync failed, broker timed out)
};

inline std::string_view DurabilityName(Durability durability) {
  switch (durability) {
    case Durability::kTrue: return "TRUE";
    case Durability::kFalse: return "FALSE";
    case Durability::kUnknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

}  // namespace wal
