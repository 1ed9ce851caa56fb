// `walctl namespaces list|get|apply|delete|export|import|pause|resume`.
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <string>

#include "cli/walctl/options.h"

namespace walctl {

class NamespaceCommands {
 public:
  void Add(CLI::App& root);
  bool parsed() const { return group_->parsed(); }
  // The namespace the parsed command is about, for shard routing; empty if
  // none (list) or if the file to apply does not load.
  std::string RoutedNamespace() const;
  int Run(const Options& options, const std::shared_ptr<grpc::Channel>& channel);

 private:
  CLI::App* group_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* get_ = nullptr;
  CLI::App* apply_ = nullptr;
  CLI::App* delete_ = nullptr;
  CLI::App* export_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* pause_ = nullptr;
  CLI::App* resume_ = nullptr;
  // export and import: a directory of <name>.yaml files, the config store's own layout.
  int Export(const Options& options, const std::shared_ptr<grpc::Channel>& channel);
  int Import(const Options& options, const std::shared_ptr<grpc::Channel>& channel);
  // pause and resume (namespace_pause.cc): flags.delivery_paused set in the
  // namespace's own config, read from the server and applied back.
  int SetPaused(const Options& options, const std::shared_ptr<grpc::Channel>& channel, bool paused);
  std::string name_, file_, directory_;
  bool purge_data_ = false;
  bool dry_run_ = false;
};

}  // namespace walctl
