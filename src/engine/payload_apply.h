// Applies a stored record's payload to a target: opaque bytes are delivered,
// a mutation is applied, a mutation set is applied in sequence order.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "target/target.h"
#include "wal/v1/record.pb.h"

namespace wal::engine {

// Applies `record.payload()` to `target`. A mutation set stops at the first
// failing mutation and reports its outcome (the set is retried from the start,
// which is safe because puts and deletes are idempotent).
//
// `resolve` picks the target a set's mutation names
// (Mutation.target); without it, or for an empty name, `target` is used.
using NamedTargetResolver = std::function<Result<std::shared_ptr<target::Target>>(const std::string& name)>;
target::ApplyResult ApplyPayload(target::Target& target, const v1::LogRecord& record,
                                 const target::DeliveryContext& context, const NamedTargetResolver& resolve = nullptr);

}  // namespace wal::engine
