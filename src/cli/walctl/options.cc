#include "cli/walctl/options.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>

#include "config/duration.h"

namespace walctl {
namespace {

std::optional<std::string> ReadTextFile(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(stream), {});
}

}  // namespace

void AddGlobalFlags(CLI::App& app, Options& options) {
  // Subcommands inherit this: an option they do not know is tried on the root.
  app.fallthrough();
  app.option_defaults()->group("Global flags");
  app.add_option("--server", options.server, "wald gRPC address (default: $WAL_SERVER, else 127.0.0.1:7400)");
  app.add_option("-o,--output", options.output, "Output format: table (the default), json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}));
  app.add_flag("--json", options.json, "Print machine-readable JSON (the same as -o json)");
  app.add_option("--timeout", options.timeout_text, "How long to wait for the server, e.g. 30s or 1m30s")
      ->capture_default_str();
  app.add_flag("--tls", options.tls, "Connect with TLS (implied by --ca-file/--cert-file/--key-file)");
  app.add_option("--ca-file", options.ca_file, "PEM CA bundle that signed the server's certificate");
  app.add_option("--cert-file", options.cert_file, "PEM client certificate (mTLS)");
  app.add_option("--key-file", options.key_file, "PEM client private key (mTLS)");
  app.add_option("--token", options.token, "Bearer token (default: $WAL_TOKEN; prefer the variable, argv is visible in ps)");
  app.add_option("--shard-map", options.shard_map, "Shard map file: send namespace commands to the namespace's shard");
  app.add_flag("--route", options.route,
               "Ask --server for the shard map in force and send namespace commands to the namespace's shard");
  app.add_option("--request-id", options.request_id, "x-request-id to send (the server logs it)");
  app.option_defaults()->group("Options");
}

wal::Status FinishGlobalFlags(const CLI::App& app, Options& options) {
  if (app.count("--server") == 0) {
    if (const char* server = std::getenv("WAL_SERVER"); server != nullptr && *server != '\0') options.server = server;
  }
  if (options.token.empty()) {
    if (const char* token = std::getenv("WAL_TOKEN")) options.token = token;
  }
  if (options.json && !options.output.empty() && options.output != "json") {
    return wal::InvalidArgument("--json and -o " + options.output + " disagree; give one");
  }
  const std::string output = options.json ? "json" : options.output;
  options.format = output == "json"   ? OutputFormat::kJson
                   : output == "yaml" ? OutputFormat::kYaml
                                      : OutputFormat::kTable;
  WAL_ASSIGN_OR_RETURN(options.timeout, ParseFlagDuration("--timeout", options.timeout_text));
  if (options.timeout.count() <= 0) return wal::InvalidArgument("--timeout: must be more than 0s");
  if (!options.shard_map.empty() && options.route) {
    return wal::InvalidArgument("--shard-map and --route are alternatives; give one");
  }
  return wal::Status::Ok();
}

void AddGlobalFlagsFooter(CLI::App& app) {
  std::string footer = "Global flags (before or after the command):\n";
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group() != "Global flags") continue;
    std::string name = option->get_name(false, true);
    // Flags have no type name; options show theirs, as CLI11's own help does.
    if (!option->get_type_name().empty()) name += " " + option->get_type_name();
    footer += "  " + name + std::string(name.size() < 24 ? 24 - name.size() : 1, ' ') + option->get_description() + "\n";
  }
  // Every command below the root, at any depth, gets the same footer.
  std::vector<CLI::App*> pending = app.get_subcommands({});
  while (!pending.empty()) {
    CLI::App* command = pending.back();
    pending.pop_back();
    command->footer(footer);
    for (CLI::App* child : command->get_subcommands({})) pending.push_back(child);
  }
}

wal::Result<std::chrono::milliseconds> ParseFlagDuration(std::string_view flag, std::string_view text) {
  const std::string name(flag);
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    return wal::InvalidArgument(name + ": give a unit, e.g. " + std::string(text) + "s or " + std::string(text) +
                                "ms (a bare number is refused)");
  }
  auto parsed = wal::config::ParseDuration(text);
  if (!parsed.ok()) return wal::InvalidArgument(name + ": " + parsed.status().message());
  if (parsed->count() < 0) return wal::InvalidArgument(name + ": must not be negative, got " + std::string(text));
  return *parsed;
}

wal::Result<std::shared_ptr<grpc::Channel>> Connect(const Options& options) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  arguments.SetMaxSendMessageSize(64 << 20);
  const bool tls = options.tls || !options.ca_file.empty() || !options.cert_file.empty() || !options.key_file.empty();
  if (!tls) return grpc::CreateCustomChannel(options.server, grpc::InsecureChannelCredentials(), arguments);
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    auto ca = ReadTextFile(options.ca_file);
    if (!ca) return wal::InvalidArgument("--ca-file: cannot read " + options.ca_file);
    ssl.pem_root_certs = *ca;
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return wal::InvalidArgument("--cert-file and --key-file go together");
  }
  if (!options.cert_file.empty()) {
    auto cert = ReadTextFile(options.cert_file);
    if (!cert) return wal::InvalidArgument("--cert-file: cannot read " + options.cert_file);
    auto key = ReadTextFile(options.key_file);
    if (!key) return wal::InvalidArgument("--key-file: cannot read " + options.key_file);
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(ssl), arguments);
}

std::unique_ptr<grpc::ClientContext> NewContext(const Options& options, bool deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (deadline) context->set_deadline(std::chrono::system_clock::now() + options.timeout);
  if (!options.token.empty()) context->AddMetadata("authorization", "Bearer " + options.token);
  if (!options.request_id.empty()) context->AddMetadata("x-request-id", options.request_id);
  return context;
}

}  // namespace walctl
