// One write as the stream and batch calls take it: the request gate (shard,
// auth, limits), then the engine, with the write metrics and the log line for
// an answer that is not TRUE. The unary calls answer a refusal with the call's
// own status; here it becomes the write's result, so one refused write does
// not end the stream or the batch it came in.
//
// Threading: Submit is thread-safe. Ownership: the engine, gate and metrics
// are borrowed and outlive the submitter.
//
// Failure: `done` runs exactly once per Submit, inline when the write is
// refused before the engine sees it, else on the thread that learns the outcome
// (engine.h); it must not throw.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "server/metrics.h"
#include "server/request_gate.h"
#include "server/write_limits.h"
#include "wal/v1/wal.pb.h"

namespace wal::server {

// A write's result when it was refused with `status` before anything was stored.
v1::WriteResult RefusedResult(const Status& status);

class WriteSubmitter {
 public:
  using Done = std::function<void(v1::WriteResult)>;

  // A null gate admits everything; null metrics count nothing.
  WriteSubmitter(engine::Engine* engine, RequestGate* gate, Metrics* metrics)
      : engine_(engine), gate_(gate), metrics_(metrics) {}

  // `authorization` is the call's Authorization value ("" when absent).
  void Submit(std::string_view authorization, const v1::WriteToLogRequest& request, Done done) const;

 private:
  engine::Engine* engine_;
  RequestGate* gate_;
  Metrics* metrics_;
};

}  // namespace wal::server
