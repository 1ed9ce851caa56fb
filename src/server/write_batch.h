// WriteToLogBatch's work, shared by the gRPC and HTTP front ends: every write
// of a batch submitted at once, their results gathered in request order.
//
// Threading: thread-safe. Failure: `done` runs exactly once, on the thread of
// the last write to complete (inline when every write was refused at once).
#pragma once

#include <functional>
#include <string_view>

#include "common/status.h"
#include "server/write_submitter.h"
#include "wal/v1/wal.pb.h"

namespace wal::server {

// INVALID_ARGUMENT when `batch` holds more than kMaxBatchWrites writes.
Status CheckBatch(const v1::WriteToLogBatchRequest& batch);

// Submits every write of `batch` (CheckBatch must have passed) through
// `submitter`; results[i] of what `done` receives answers writes[i].
void SubmitBatch(const WriteSubmitter& submitter, std::string_view authorization,
                 const v1::WriteToLogBatchRequest& batch, std::function<void(v1::WriteToLogBatchResponse)> done);

}  // namespace wal::server
