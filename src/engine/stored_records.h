// Reading back what a namespace's backend still stores, at start-up and for
// administration: the idempotency keys and the mutation-set markers are
// rebuilt from it, and purged dead letters' sets are found in it.
//
// A scan either reads everything or fails. A read error stops it and is
// returned, never passed off as the end of the log, because callers draw
// conclusions from what is absent (a stored set that no marker names is
// dropped as never acknowledged).
//
// Threading: the calls run on the caller's thread and use only the backend's
// thread-safe Read / ListDeadLetters.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/status.h"
#include "queue/queue.h"
#include "wal/v1/record.pb.h"

namespace wal::engine {

enum class StoredStream { kLog, kDeadLetters };

// Calls visit(entry) for every entry of `stream` with id >= from_id, in id
// order, reading page by page until a page comes back empty.
Status ForEachStoredEntry(queue::Backend& backend, StoredStream stream, uint64_t from_id,
                          const std::function<void(const queue::StoredEntry&)>& visit);

struct StoredSetMarkers {
  std::vector<v1::LogRecord> live;  // markers in the main log
  std::vector<v1::LogRecord> dead;  // markers in the DLQ
  // False when a stored record could not be parsed: it may have been a
  // marker, so the scan cannot prove that a set has none.
  bool complete = true;
};

// Every mutation-set marker still stored in the main log and the DLQ.
Result<StoredSetMarkers> CollectSetMarkers(queue::Backend& backend);

}  // namespace wal::engine
