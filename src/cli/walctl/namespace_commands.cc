#include "cli/walctl/namespace_commands.h"

#include <iostream>

#include "cli/walctl/output.h"
#include "config/config.h"
#include "modules/builtin_modules.h"
#include "server/namespace_json.h"
#include "wal/v1/admin.grpc.pb.h"

namespace walctl {
namespace {

wal::Result<wal::config::NamespaceConfig> LoadFile(const std::string& path) {
  return wal::config::LoadNamespaceFile(wal::DefaultFileSystem(), path, wal::modules::BuiltinModules().catalog());
}

}  // namespace

void NamespaceCommands::Add(CLI::App& root) {
  group_ = root.add_subcommand("namespaces", "Manage namespaces");
  group_->require_subcommand(1);
  list_ = group_->add_subcommand("list", "List namespaces");
  get_ = group_->add_subcommand("get", "Show a namespace's config, defaults filled in");
  get_->add_option("name", name_, "Namespace name")->required();
  apply_ = group_->add_subcommand("apply", "Create or update a namespace from a YAML/JSON file");
  apply_->add_option("file", file_, "Namespace config file (YAML or JSON)")->required();
  apply_->add_flag("--dry-run", dry_run_,
                   "Validate the file here, as the server would, and print the config with defaults filled in; "
                   "send nothing");
  delete_ = group_->add_subcommand("delete", "Delete a namespace");
  delete_->add_option("name", name_, "Namespace name")->required();
  delete_->add_flag("--purge-data", purge_data_, "Also remove its log data");
}

std::string NamespaceCommands::RoutedNamespace() const {
  if (get_->parsed() || delete_->parsed()) return name_;
  if (apply_->parsed()) {
    auto config = LoadFile(file_);
    if (config.ok()) return config->name;
  }
  return "";
}

int NamespaceCommands::Run(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  auto admin = wal::v1::Admin::NewStub(channel);
  if (list_->parsed()) {
    wal::v1::ListNamespacesResponse response;
    grpc::Status rpc = admin->ListNamespaces(NewContext(options).get(), {}, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
    if (options.format != OutputFormat::kTable) {
      Emit(options, MessageTree(response));
    } else {
      for (const auto& name : response.names()) std::cout << name << "\n";
    }
    return kExitOk;
  }
  if (get_->parsed()) {
    wal::v1::GetNamespaceRequest request;
    request.set_name(name_);
    wal::v1::NamespaceResponse response;
    grpc::Status rpc = admin->GetNamespace(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
    const Tree config = MessageTree(response.config());
    if (options.format == OutputFormat::kTable) std::cout << config.dump(2) << "\n";
    else Emit(options, config);
    return kExitOk;
  }
  if (apply_->parsed()) {
    // Validate locally first so a bad file is reported with its own name.
    auto config = LoadFile(file_);
    if (!config.ok()) return ReportLocalFailure(options, config.status().message());
    if (dry_run_) {
      // The server's checks before it opens anything: defaults, then values.
      wal::config::FillNamespaceDefaults(&*config);
      if (wal::Status valid = wal::config::ValidateNamespace(*config); !valid.ok()) {
        return ReportLocalFailure(options, file_ + ": " + valid.message());
      }
    }
    auto document = wal::server::NamespaceToStruct(*config);
    if (!document.ok()) return ReportLocalFailure(options, document.status().message());
    if (dry_run_) {
      const Tree tree = MessageTree(*document);
      if (options.format == OutputFormat::kTable) {
        std::cout << "namespace " << config->name << " is valid (dry run: nothing sent)\n" << tree.dump(2) << "\n";
      } else {
        Emit(options, tree);
      }
      return kExitOk;
    }
    wal::v1::ApplyNamespaceRequest request;
    *request.mutable_config() = *document;
    wal::v1::NamespaceResponse response;
    grpc::Status rpc = admin->ApplyNamespace(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
    if (options.format != OutputFormat::kTable) Emit(options, MessageTree(response.config()));
    else std::cout << "applied namespace " << config->name << "\n";
    return kExitOk;
  }
  wal::v1::DeleteNamespaceRequest request;
  request.set_name(name_);
  request.set_purge_data(purge_data_);
  wal::v1::DeleteNamespaceResponse response;
  grpc::Status rpc = admin->DeleteNamespace(NewContext(options).get(), request, &response);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  if (options.format != OutputFormat::kTable) Emit(options, Tree{{"deleted", name_}});
  else std::cout << "deleted namespace " << name_ << "\n";
  return kExitOk;
}

}  // namespace walctl
