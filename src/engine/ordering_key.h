// The key that keeps a namespace's entries in order where its backend
// partitions (the Kafka record key): writes to one item share it.
#pragma once

#include <string>

#include "wal/v1/wal.pb.h"

namespace wal::engine {

// The first mutation's table, partition key and key; "" for a payload with no
// mutation (opaque bytes), which then has no order to keep.
std::string OrderingKey(const v1::Payload& payload);

}  // namespace wal::engine
