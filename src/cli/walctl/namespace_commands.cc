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

std::string DescribeChange(const std::string& change) {
  if (change == "create") return "create it";
  if (change == "policy") return "change its policy and keep its log open";
  if (change == "reopen") return "close its log and open it again (its backend, DLQ or storage section changed)";
  if (change == "unchanged") return "change nothing: the server runs this config already";
  return change;
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
                   "Have the server check the file as an apply would and say what applying it would change "
                   "(create, policy, reopen, unchanged); print the config with defaults filled in; change nothing");
  delete_ = group_->add_subcommand("delete", "Delete a namespace");
  delete_->add_option("name", name_, "Namespace name")->required();
  delete_->add_flag("--purge-data", purge_data_, "Also remove its log data");
  export_ = group_->add_subcommand("export", "Write every namespace's config to DIR/<name>.yaml");
  export_->add_option("dir", directory_, "Directory to write (created if absent)")->required();
  import_ = group_->add_subcommand("import", "Apply every namespace file in DIR; nothing is applied if one is bad");
  import_->add_option("dir", directory_, "Directory of namespace files (.yaml, .yml, .json)")->required();
  pause_ = group_->add_subcommand("pause", "Hold a namespace's deliveries (flags.delivery_paused); writes are still kept");
  pause_->add_option("name", name_, "Namespace name")->required();
  resume_ = group_->add_subcommand("resume", "Resume a paused namespace's deliveries; the backlog drains");
  resume_->add_option("name", name_, "Namespace name")->required();
}

std::string NamespaceCommands::RoutedNamespace() const {
  if (get_->parsed() || delete_->parsed() || pause_->parsed() || resume_->parsed()) return name_;
  if (apply_->parsed()) {
    auto config = LoadFile(file_);
    if (config.ok()) return config->name;
  }
  return "";
}

int NamespaceCommands::Export(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  auto admin = wal::v1::Admin::NewStub(channel);
  wal::v1::ListNamespacesResponse names;
  grpc::Status rpc = admin->ListNamespaces(NewContext(options).get(), {}, &names);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  Tree written = Tree::array();
  for (const auto& name : names.names()) {
    wal::v1::GetNamespaceRequest request;
    request.set_name(name);
    wal::v1::NamespaceResponse response;
    rpc = admin->GetNamespace(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
    auto config = wal::server::NamespaceFromStruct(response.config(), wal::modules::BuiltinModules().catalog());
    if (!config.ok()) return ReportLocalFailure(options, "namespace " + name + ": " + config.status().message());
    if (wal::Status saved = wal::config::SaveNamespaceFile(wal::DefaultFileSystem(), directory_, *config);
        !saved.ok()) {
      return ReportLocalFailure(options, saved.message());
    }
    written.push_back(directory_ + "/" + name + ".yaml");
  }
  if (options.format != OutputFormat::kTable) Emit(options, Tree{{"exported", written}});
  else for (const auto& path : written) std::cout << "exported " << path.get<std::string>() << "\n";
  return kExitOk;
}

int NamespaceCommands::Import(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  // Every file is checked before any is sent, so a typo in one file does not
  // leave the server with half a directory applied.
  wal::config::DirectoryLoad load =
      wal::config::LoadNamespaceDirectory(wal::DefaultFileSystem(), directory_, wal::modules::BuiltinModules().catalog());
  if (!load.errors.empty()) {
    std::string message = "nothing imported: ";
    for (size_t i = 0; i < load.errors.size(); ++i) message += (i == 0 ? "" : "; ") + load.errors[i].message();
    return ReportLocalFailure(options, message);
  }
  auto admin = wal::v1::Admin::NewStub(channel);
  Tree applied = Tree::array();
  for (const auto& config : load.namespaces) {
    auto document = wal::server::NamespaceToStruct(config);
    if (!document.ok()) return ReportLocalFailure(options, document.status().message());
    wal::v1::ApplyNamespaceRequest request;
    *request.mutable_config() = *document;
    wal::v1::NamespaceResponse response;
    grpc::Status rpc = admin->ApplyNamespace(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
    applied.push_back(config.name);
  }
  if (options.format != OutputFormat::kTable) Emit(options, Tree{{"imported", applied}});
  else for (const auto& name : applied) std::cout << "applied namespace " << name.get<std::string>() << "\n";
  return kExitOk;
}

int NamespaceCommands::Run(const Options& options, const std::shared_ptr<grpc::Channel>& channel) {
  if (export_->parsed()) return Export(options, channel);
  if (import_->parsed()) return Import(options, channel);
  if (pause_->parsed() || resume_->parsed()) return SetPaused(options, channel, pause_->parsed());
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
    wal::v1::ApplyNamespaceRequest request;
    *request.mutable_config() = *document;
    request.set_validate_only(dry_run_);
    wal::v1::NamespaceResponse response;
    grpc::Status rpc = admin->ApplyNamespace(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
    if (dry_run_) {
      const Tree tree = MessageTree(response.config());
      if (options.format == OutputFormat::kTable) {
        std::cout << "namespace " << config->name << " is valid (dry run: nothing changed); applying it would "
                  << DescribeChange(response.change()) << "\n"
                  << tree.dump(2) << "\n";
      } else {
        Emit(options, tree);
      }
      return kExitOk;
    }
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
