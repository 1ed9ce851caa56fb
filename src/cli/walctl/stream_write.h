// `walctl write NAMESPACE --each-line FILE|-`: one entry per input line, sent
// over one WriteToLogStream so many are in flight at once, with a progress
// line on stderr when it is a terminal.
//
// Threading: a reader thread feeds the stream while the calling thread reads
// the answers; both end before StreamLines returns.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <istream>
#include <memory>
#include <string>

#include "wal/v1/wal.grpc.pb.h"

namespace walctl {

struct StreamTally {
  uint64_t sent = 0;
  uint64_t durable_true = 0;
  uint64_t durable_false = 0;
  uint64_t durable_unknown = 0;
  uint64_t refused = 0;
  bool all_true() const { return durable_true == sent; }
};

// Sends one write per non-empty line of `input`, each made by `make(line)`.
// Answers that are not TRUE are printed to stderr with their line number.
// Returns the call's final status; `tally` counts what was answered.
grpc::Status StreamLines(wal::v1::WriteAheadLog::Stub& stub, grpc::ClientContext& context, std::istream& input,
                         const std::function<wal::v1::WriteToLogRequest(const std::string& line)>& make,
                         bool progress, StreamTally* tally);

}  // namespace walctl
