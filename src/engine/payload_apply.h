// Applies a stored record's payload to a target: opaque bytes are delivered,
// a mutation is applied, a mutation set is applied in sequence order.
#pragma once

#include "target/target.h"
#include "wal/v1/record.pb.h"

namespace wal::engine {

// Applies `record.payload()` to `target`. A mutation set stops at the first
// failing mutation and reports its outcome (the set is retried from the start,
// which is safe because puts and deletes are idempotent).
target::ApplyResult ApplyPayload(target::Target& target, const v1::LogRecord& record,
                                 const target::DeliveryContext& context);

}  // namespace wal::engine
