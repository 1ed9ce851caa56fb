// walctl's global flags and the connection they describe.
//
// The global flags are declared once, on the top-level app, and every
// subcommand lets unknown options fall through to it, so `walctl status --json`
// and `walctl --json status` mean the same, as with kubectl and aws.
//
// Failure: nothing here throws; bad flag values come back as Status, which the
// caller reports as bad usage (exit 2).
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace walctl {

enum class OutputFormat { kTable, kJson, kYaml };

struct Options {
  std::string server = "127.0.0.1:7400";  // --server, else $WAL_SERVER
  std::string output;                     // -o table|json|yaml
  bool json = false;                      // --json: -o json
  std::string timeout_text = "30s";
  // How to reach a secured, sharded cluster: TLS, the bearer token, shard
  // redirects and the request id sent with each call.
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string token;  // --token, else $WAL_TOKEN
  std::string shard_map;
  bool route = false;  // ask --server for the shard map, then route by it
  std::string request_id;

  // Filled in by FinishGlobalFlags.
  OutputFormat format = OutputFormat::kTable;
  std::chrono::milliseconds timeout{30'000};
};

// Declares the global flags on `app`, the root. Call before adding
// subcommands: they inherit fallthrough from it.
void AddGlobalFlags(CLI::App& app, Options& options);

// After parsing: environment defaults, -o/--json agreement, --timeout.
[[nodiscard]] wal::Status FinishGlobalFlags(const CLI::App& app, Options& options);

// A footer for every subcommand's help listing the root's flags, since CLI11
// shows only a command's own options.
void AddGlobalFlagsFooter(CLI::App& app);

// A duration flag's value in the one grammar of config/duration.h, except that
// a bare number is refused: config reads it as milliseconds, while walctl's
// flags used to read it as seconds, so accepting it either way would silently
// change what an old command line means. Errors name the flag.
wal::Result<std::chrono::milliseconds> ParseFlagDuration(std::string_view flag, std::string_view text);

// The channel, TLS when --tls or any certificate file is given.
wal::Result<std::shared_ptr<grpc::Channel>> Connect(const Options& options);

// A call context with the token, the request id and, unless `deadline` is
// false, the --timeout deadline.
std::unique_ptr<grpc::ClientContext> NewContext(const Options& options, bool deadline = true);

}  // namespace walctl
