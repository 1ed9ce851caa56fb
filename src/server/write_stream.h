// WriteToLogStream's server side: a gRPC callback bidi reactor over raw bytes.
//
// Flow control: the reactor keeps at most kStreamWindow writes between reading
// a request and finishing the write of its response (in the engine, or
// answered and waiting for the wire). At the window it stops reading, so a
// client faster than the log is held back by HTTP/2 flow control and the
// server's buffering stays bounded. Responses go out in completion order, one
// write on the wire at a time (gRPC's rule).
//
// Lifetime: gRPC owns the call; the reactor deletes itself once gRPC is done
// with it (OnDone) and no write it submitted is still in the engine, since
// those callbacks touch it.
//
// Failure: a request that does not parse ends the stream with INVALID_ARGUMENT
// after the writes before it are answered; a refused write is answered and the
// stream goes on; a cancelled call drops the answers not yet sent (their
// writes still complete, but the client cannot know how: UNKNOWN). Nothing
// here throws into gRPC.
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <mutex>
#include <string>

#include "server/write_submitter.h"

namespace wal::server {

// When the reactor may read: pure, so the window's rule has a test of its own.
struct StreamWindowState {
  bool reading = false;      // a read is outstanding
  bool closed = false;       // the client half-closed, or a request did not parse
  size_t unanswered = 0;     // submitted, the engine has not answered
  size_t unsent = 0;         // answered, the response not yet written (the one on the wire included)
  bool MayRead(size_t window) const { return !reading && !closed && unanswered + unsent < window; }
  bool Drained() const { return closed && !reading && unanswered == 0 && unsent == 0; }
};

class WriteStreamReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Starts reading at once. `submitter` outlives every stream.
  WriteStreamReactor(grpc::CallbackServerContext* context, const WriteSubmitter* submitter,
                     size_t window = kStreamWindow);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to start once the lock is released (gRPC calls are not made under it).
  struct Next {
    bool read = false;
    const grpc::ByteBuffer* write = nullptr;
    bool finish = false;
    grpc::Status status;
  };
  Next Step();  // under mutex_
  void Run(const Next& next);
  void Answered(uint64_t sequence, v1::WriteResult result);

  const WriteSubmitter* submitter_;
  const size_t window_;
  std::string authorization_;
  std::string request_id_;
  grpc::ByteBuffer read_buffer_;

  std::mutex mutex_;
  StreamWindowState state_;
  std::deque<grpc::ByteBuffer> outgoing_;  // front: on the wire when writing_
  bool writing_ = false;
  bool finished_ = false;   // Finish was called
  bool done_ = false;       // gRPC called OnDone
  grpc::Status end_status_ = grpc::Status::OK;
  uint64_t requests_read_ = 0;
};

}  // namespace wal::server
