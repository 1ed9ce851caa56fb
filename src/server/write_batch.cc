#include "server/write_batch.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>

namespace wal::server {

Status CheckBatch(const v1::WriteToLogBatchRequest& batch) {
  if (static_cast<size_t>(batch.writes_size()) > kMaxBatchWrites) {
    return InvalidArgument("writes: " + std::to_string(batch.writes_size()) + " writes in one batch; at most " +
                           std::to_string(kMaxBatchWrites));
  }
  return Status::Ok();
}

void SubmitBatch(const WriteSubmitter& submitter, std::string_view authorization,
                 const v1::WriteToLogBatchRequest& batch, std::function<void(v1::WriteToLogBatchResponse)> done) {
  struct Gathered {
    v1::WriteToLogBatchResponse response;
    std::atomic<size_t> remaining{0};
    std::function<void(v1::WriteToLogBatchResponse)> done;
  };
  const int count = batch.writes_size();
  if (count == 0) {
    done(v1::WriteToLogBatchResponse());
    return;
  }
  auto gathered = std::make_shared<Gathered>();
  gathered->done = std::move(done);
  gathered->remaining.store(static_cast<size_t>(count));
  // Every slot exists before the first write can complete, so each callback
  // fills only its own element and the vector never moves.
  for (int i = 0; i < count; ++i) gathered->response.add_results();
  for (int i = 0; i < count; ++i) {
    submitter.Submit(authorization, batch.writes(i), [gathered, i](v1::WriteResult result) {
      *gathered->response.mutable_results(i) = std::move(result);
      // acq_rel: the last one sees every other callback's element.
      if (gathered->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        gathered->done(std::move(gathered->response));
      }
    });
  }
}

}  // namespace wal::server
