// `walctl write`: one entry, or one per line over a stream (--each-line).
//
// Input is never dropped silently: a payload must be named (an argument, `-`
// for stdin, or --file), and every flag given must be one the write uses.
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <string>

#include "cli/walctl/options.h"

namespace walctl {

class WriteCommand {
 public:
  void Add(CLI::App& root);
  bool parsed() const { return command_->parsed(); }
  const std::string& namespace_name() const { return namespace_; }
  int Run(const Options& options, const std::shared_ptr<grpc::Channel>& channel);

 private:
  CLI::App* command_ = nullptr;
  std::string namespace_, payload_, file_, delay_, op_, key_, table_, partition_, ttl_, target_, idempotency_key_;
  std::string each_line_;
  bool progress_ = false;
};

}  // namespace walctl
