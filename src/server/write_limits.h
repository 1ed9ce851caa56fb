// The bounds of the many-write calls (docs/api.md, "Streams and batches").
#pragma once

#include <cstddef>

namespace wal::server {

// The most writes one WriteToLogBatch call (or HTTP batch) may carry.
inline constexpr size_t kMaxBatchWrites = 10000;
// The most writes a WriteToLogStream reads ahead of their answers.
inline constexpr size_t kStreamWindow = 1024;

}  // namespace wal::server
