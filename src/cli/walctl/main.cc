// walctl: the command-line client for wald.
//
// This file builds the command tree, parses, and sends the parsed command to
// the group that runs it; the groups live in *_commands.cc, the global flags
// and the connection in options.cc, and printing and exit codes in output.cc.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/walctl/completion.h"
#include "cli/walctl/inspect_commands.h"
#include "cli/walctl/namespace_commands.h"
#include "cli/walctl/options.h"
#include "cli/walctl/output.h"
#include "cli/walctl/write_command.h"
#include "server/shard_map.h"
#include "wal/v1/admin.grpc.pb.h"

namespace {

using walctl::Options;

// With --shard-map or --route, a command about one namespace goes to that
// namespace's shard instead of --server. Returns an exit code on failure.
std::optional<int> Route(Options& options, const std::string& routed) {
  wal::Result<wal::server::ShardMap> map = wal::InvalidArgument("no shard map");
  if (options.route) {
    auto bootstrap = walctl::Connect(options);
    if (!bootstrap.ok()) return walctl::ReportLocalFailure(options, bootstrap.status().message());
    wal::v1::ShardMapResponse response;
    grpc::Status rpc =
        wal::v1::Admin::NewStub(*bootstrap)->GetShardMap(walctl::NewContext(options).get(), {}, &response);
    if (!rpc.ok()) return walctl::ReportRpcFailure(options, rpc, bootstrap->get());
    map = response.map().empty() ? wal::server::ShardMap()
                                 : wal::server::ShardMap::Parse(response.map(), wal::config::Format::kYaml,
                                                                options.server + " shard map");
    if (!map.ok()) return walctl::ReportLocalFailure(options, "--route: " + map.status().message());
  } else {
    map = wal::server::ShardMap::Load(wal::DefaultFileSystem(), options.shard_map);
    if (!map.ok()) return walctl::ReportLocalFailure(options, "--shard-map: " + map.status().message());
  }
  if (!routed.empty()) {
    if (const wal::server::Shard* shard = map->ShardOf(routed)) options.server = shard->addresses.front();
  }
  return std::nullopt;
}

int Run(int argc, char** argv) {
  CLI::App app{"walctl: command-line client for the wal write-ahead-log service"};
  app.set_version_flag("--version", "walctl " WAL_VERSION, "Print walctl's version and exit");
  app.require_subcommand(1);
  Options options;
  walctl::AddGlobalFlags(app, options);
  walctl::WriteCommand write;
  write.Add(app);
  walctl::NamespaceCommands namespaces;
  namespaces.Add(app);
  walctl::InspectCommands inspect;
  inspect.Add(app);
  std::string shell;
  auto* completion = app.add_subcommand("completion", "Print a shell completion script: source <(walctl completion bash)");
  completion->add_option("shell", shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  walctl::AddGlobalFlagsFooter(app);

  // Every parse failure is bad usage (2); --help and --version are success.
  // CLI11's own exit codes (105 for an extra argument and so on) are not ours.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? walctl::kExitOk : walctl::kExitUsage;
  }
  if (completion->parsed()) {
    std::cout << walctl::CompletionScript(app, shell);
    return walctl::kExitOk;
  }
  if (wal::Status finished = walctl::FinishGlobalFlags(app, options); !finished.ok()) {
    return walctl::ReportLocalFailure(options, finished.message());
  }
  if (!options.shard_map.empty() || options.route) {
    const std::string routed = write.parsed()        ? write.namespace_name()
                               : namespaces.parsed() ? namespaces.RoutedNamespace()
                                                     : inspect.RoutedNamespace();
    if (auto failed = Route(options, routed)) return *failed;
  }
  auto channel = walctl::Connect(options);
  if (!channel.ok()) return walctl::ReportLocalFailure(options, channel.status().message());
  if (write.parsed()) return write.Run(options, *channel);
  if (namespaces.parsed()) return namespaces.Run(options, *channel);
  return inspect.Run(options, *channel);
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing below should throw; this only keeps a library's surprise from
  // ending the process with an abort instead of an answer.
  try {
    return Run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "walctl: internal error: " << error.what() << "\n";
    return walctl::kExitRefused;
  }
}
