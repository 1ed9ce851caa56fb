#include "server/write_stream.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

#include "server/grpc_call.h"
#include "server/logging.h"
#include "server/status_mapping.h"

namespace wal::server {

WriteStreamReactor::WriteStreamReactor(grpc::CallbackServerContext* context, const WriteSubmitter* submitter,
                                       size_t window)
    : submitter_(submitter), window_(window == 0 ? 1 : window) {
  try {
    CallMetadata metadata = ReadCallMetadata(context);
    authorization_ = std::move(metadata.authorization);
    request_id_ = std::move(metadata.request_id);
  } catch (const std::exception& error) {
    end_status_ = ToGrpcStatus(HandlerFailed("write stream", error.what()));
    state_.closed = true;
  }
  std::unique_lock lock(mutex_);
  Next next = Step();
  lock.unlock();
  Run(next);
}

WriteStreamReactor::Next WriteStreamReactor::Step() {
  Next next;
  if (finished_) return next;
  if (state_.MayRead(window_)) {
    state_.reading = true;
    next.read = true;
  }
  if (!writing_ && !outgoing_.empty()) {
    writing_ = true;
    next.write = &outgoing_.front();
  }
  if (state_.Drained()) {
    finished_ = true;
    next.finish = true;
    next.status = end_status_;
  }
  return next;
}

void WriteStreamReactor::Run(const Next& next) {
  if (next.read) StartRead(&read_buffer_);
  if (next.write != nullptr) StartWrite(next.write);
  if (next.finish) Finish(next.status);
}

void WriteStreamReactor::OnReadDone(bool ok) {
  v1::WriteToLogStreamRequest request;
  bool submit = false;
  {
    std::lock_guard lock(mutex_);
    state_.reading = false;
    if (!ok) {
      state_.closed = true;  // the client half-closed, or the call broke
    } else {
      ++requests_read_;
      Status parsed = ParseRequest(read_buffer_, &request);
      read_buffer_.Clear();
      if (!parsed.ok()) {
        // Without a sequence the write cannot be answered on the stream.
        state_.closed = true;
        end_status_ = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   "message " + std::to_string(requests_read_) + " of the stream: " + parsed.message());
      } else {
        ++state_.unanswered;
        submit = true;
      }
    }
  }
  if (submit) {
    const uint64_t sequence = request.sequence();
    RequestIdScope id(request_id_);
    try {
      submitter_->Submit(authorization_, request.write(), [this, sequence](v1::WriteResult result) {
        Answered(sequence, std::move(result));
      });
    } catch (const std::exception& error) {
      // Submit itself failed (it could only fail to allocate): the write may
      // or may not have reached the engine, and the callback may still come.
      spdlog::error("write stream: submitting a write failed: {}", error.what());
    }
  }
  std::unique_lock lock(mutex_);
  Next next = Step();
  lock.unlock();
  Run(next);
}

void WriteStreamReactor::Answered(uint64_t sequence, v1::WriteResult result) {
  std::unique_lock lock(mutex_);
  --state_.unanswered;
  if (done_) {
    // gRPC is finished with the call; the last answer frees the reactor.
    if (state_.unanswered == 0) {
      lock.unlock();
      delete this;
    }
    return;
  }
  if (!finished_) {
    v1::WriteToLogStreamResponse response;
    response.set_sequence(sequence);
    *response.mutable_result() = std::move(result);
    grpc::ByteBuffer bytes;
    Status serialized = SerializeResponse(response, &bytes);
    if (serialized.ok()) {
      outgoing_.push_back(std::move(bytes));
      ++state_.unsent;
    } else {
      spdlog::error("write stream: {}", serialized.message());
    }
  }
  Next next = Step();
  lock.unlock();
  Run(next);
}

void WriteStreamReactor::OnWriteDone(bool ok) {
  std::unique_lock lock(mutex_);
  writing_ = false;
  if (!outgoing_.empty()) {
    outgoing_.pop_front();
    --state_.unsent;
  }
  if (!ok) {
    // The call is broken: nothing more can be sent, so stop and let gRPC end it.
    state_.unsent -= outgoing_.size();
    outgoing_.clear();
    state_.closed = true;
  }
  Next next = Step();
  lock.unlock();
  Run(next);
}

void WriteStreamReactor::OnCancel() {
  std::unique_lock lock(mutex_);
  if (finished_) return;
  // Answers still queued cannot reach the client; writes in the engine still
  // complete, and their callbacks find the call finished.
  finished_ = true;
  lock.unlock();
  Finish(grpc::Status::CANCELLED);
}

void WriteStreamReactor::OnDone() {
  std::unique_lock lock(mutex_);
  done_ = true;
  const bool last = state_.unanswered == 0;
  lock.unlock();
  if (last) delete this;
}

}  // namespace wal::server
