// How walctl prints answers and failures, and the exit codes it documents
// (docs/api.md, "walctl").
//
// Structured output goes through one tree type whose objects keep their keys
// sorted, so two runs print the same bytes for the same data and can be diffed
// whatever order a protobuf map happened to iterate in.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli/walctl/options.h"

namespace walctl {

// The only exit codes walctl uses.
enum ExitCode : int {
  kExitOk = 0,
  kExitRefused = 1,      // the server answered and refused the call
  kExitUsage = 2,        // bad command line or local input (an unreadable or invalid file)
  kExitNotDurable = 3,   // a write was answered FALSE or UNKNOWN
  kExitUnreachable = 4,  // no answer: the server is down, unreachable or not serving
};

using Tree = nlohmann::json;  // std::map objects: sorted keys

// `message` as a tree, proto field names, default values included.
Tree MessageTree(const google::protobuf::Message& message);

// `walctl log read --decode`: in a log entry's tree, the payload's bytes fields
// (opaque, and a mutation's key and value), which protobuf's JSON mapping
// prints as base64, become their text, or the JSON value they hold. Bytes
// that are not UTF-8 stay base64, so nothing is lost or mangled.
void DecodePayloadBytes(Tree& entry);

// Prints `tree` as one JSON line (-o json) or one YAML document (-o yaml); the
// table format has no generic form, so callers print their own text for it.
void Emit(const Options& options, const Tree& tree);

// The failure, on stdout as {"error":{code,message}} in json/yaml, else on
// stderr; returns its exit code. `channel` tells a connect that timed out
// (unreachable) from a call that did.
int ReportRpcFailure(const Options& options, const grpc::Status& status, grpc::Channel* channel);
int ReportLocalFailure(const Options& options, const std::string& message);

}  // namespace walctl
