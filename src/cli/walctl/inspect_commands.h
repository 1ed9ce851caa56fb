// `walctl status`, `log read`, `dlq ...` and `shards get|apply`: the commands
// that look at a running server's state, plus the dead-letter actions.
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/walctl/options.h"
#include "wal/v1/admin.pb.h"

namespace walctl {

class InspectCommands {
 public:
  void Add(CLI::App& root);
  bool parsed() const;
  std::string RoutedNamespace() const;
  int Run(const Options& options, const std::shared_ptr<grpc::Channel>& channel);

 private:
  int Status(const Options& options, const std::shared_ptr<grpc::Channel>& channel);
  int ReadLog(const Options& options, const std::shared_ptr<grpc::Channel>& channel);
  // Whether log read/tail prints `entry` (--entry, --state).
  bool Wanted(const wal::v1::LogRecordView& entry) const;
  int ListDeadLetters(const Options& options, const std::shared_ptr<grpc::Channel>& channel);
  int ActOnDeadLetters(const Options& options, const std::shared_ptr<grpc::Channel>& channel);
  int Shards(const Options& options, const std::shared_ptr<grpc::Channel>& channel);

  CLI::App* status_ = nullptr;
  CLI::App* log_ = nullptr;
  CLI::App* log_read_ = nullptr;
  CLI::App* log_tail_ = nullptr;
  CLI::App* dlq_ = nullptr;
  CLI::App* dlq_list_ = nullptr;
  CLI::App* dlq_show_ = nullptr;
  CLI::App* dlq_redrive_ = nullptr;
  CLI::App* dlq_purge_ = nullptr;
  CLI::App* shards_ = nullptr;
  CLI::App* shards_apply_ = nullptr;
  std::string namespace_;
  std::string to_namespace_;  // dlq redrive --to
  uint64_t from_ = 0;
  uint64_t limit_ = 100;
  std::vector<uint64_t> ids_;
  bool all_ = false;
  bool follow_ = false;
  bool decode_ = false;
  uint64_t tail_lines_ = 10;
  std::vector<std::string> states_;  // log read/tail --state: delayed, due, in-flight, done
  std::optional<uint64_t> entry_;    // log read --entry: only this write's records
  std::string shard_map_file_;
};

}  // namespace walctl
