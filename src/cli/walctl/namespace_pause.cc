// `walctl namespaces pause|resume NAME`: flags.delivery_paused, set the way an
// operator would by hand: get the namespace's config, change the one flag,
// apply it back. A change applied by someone else in between is overwritten,
// as with any get-edit-apply.
#include <iostream>

#include "cli/walctl/namespace_commands.h"
#include "cli/walctl/output.h"
#include "wal/v1/admin.grpc.pb.h"

namespace walctl {

int NamespaceCommands::SetPaused(const Options& options, const std::shared_ptr<grpc::Channel>& channel, bool paused) {
  auto admin = wal::v1::Admin::NewStub(channel);
  wal::v1::GetNamespaceRequest get;
  get.set_name(name_);
  wal::v1::NamespaceResponse current;
  grpc::Status rpc = admin->GetNamespace(NewContext(options).get(), get, &current);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());

  wal::v1::ApplyNamespaceRequest apply;
  apply.set_name(name_);
  *apply.mutable_config() = current.config();
  auto& flags = *(*apply.mutable_config()->mutable_fields())["flags"].mutable_struct_value()->mutable_fields();
  flags["delivery_paused"].set_bool_value(paused);
  wal::v1::NamespaceResponse applied;
  rpc = admin->ApplyNamespace(NewContext(options).get(), apply, &applied);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc, channel.get());
  const char* state = paused ? "paused" : "resumed";
  if (options.format != OutputFormat::kTable) Emit(options, Tree{{state, name_}});
  else std::cout << "namespace " << name_ << ": deliveries " << state << "\n";
  return kExitOk;
}

}  // namespace walctl
