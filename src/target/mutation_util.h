// Helpers for reading mutations and validating payloads, shared by every
// target and by the engine's write path (which checks a request with the
// same rules before any target sees it).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "wal/v1/wal.pb.h"

namespace wal::target {

// The mutation's TTL in milliseconds; 0 means "no expiry". A TTL with a
// sub-millisecond remainder rounds up, so a tiny TTL never means "forever".
// Negative TTLs are rejected by ValidateMutationBasics; here they read as -1.
int64_t TtlMillis(const v1::Mutation& mutation);

// Checks what holds for every target: the operation is PUT or DELETE and the
// TTL is not negative. `field` is the mutation's path, e.g. "payload.mutation".
Status ValidateMutationBasics(const v1::Mutation& mutation, std::string_view field);

// Everything a mutation must be to be accepted at all: ValidateMutationBasics,
// plus a key, and no value on a DELETE. The write path checks this for every
// request; a target's ValidatePayload adds what only it needs.
Status ValidateMutation(const v1::Mutation& mutation, std::string_view field);

// Calls `check(mutation, field)` for the payload's mutation or for each
// mutation of its set (field "payload.mutation_set.mutations[i]"), stopping at
// the first error. Opaque payloads go to `check_opaque` (nullptr: accepted).
Status ForEachMutation(const v1::Payload& payload,
                       const std::function<Status(const v1::Mutation&, const std::string&)>& check,
                       const std::function<Status()>& check_opaque = nullptr);

// The key layout of the key-value caches (memcached, redis):
// [prefix][table:][partition_key:]key, where empty parts are left out.
std::string CacheKey(std::string_view prefix, const v1::Mutation& mutation);

// "PUT"/"DELETE"/"OPERATION_UNSPECIFIED", for messages.
std::string_view OperationName(v1::Mutation::Operation op);

// At most `limit` bytes of `text` with control bytes replaced by '.', and
// "..." when cut: safe to put in a log line or an error reason.
std::string Excerpt(std::string_view text, size_t limit);

}  // namespace wal::target
