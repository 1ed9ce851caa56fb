// walctl: the command-line client for wald.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>

#include <unistd.h>

#include "cli/walctl/stream_write.h"
#include "config/config.h"
#include "modules/builtin_modules.h"
#include "server/namespace_json.h"
#include "server/shard_map.h"
#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"

namespace {

using google::protobuf::util::TimeUtil;

struct Options {
  std::string server = "127.0.0.1:7400";
  bool json = false;
  double timeout_seconds = 30;
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
};

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  while (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

int ReportRpcFailure(const Options& options, const grpc::Status& status) {
  const std::string code = [&] {
    switch (status.error_code()) {
      case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
      case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
      case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
      case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
      case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
      case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
      case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
      case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
      case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
      default: return "ERROR";
    }
  }();
  if (options.json) {
    std::cout << R"({"error":{"code":")" << code << R"(","message":)" << std::quoted(status.error_message()) << "}}\n";
  } else {
    std::cerr << "walctl: " << code << ": " << status.error_message() << "\n";
  }
  return 1;
}

int ReportLocalFailure(const Options& options, const std::string& message) {
  if (options.json) {
    std::cout << R"({"error":{"code":"INVALID_ARGUMENT","message":)" << std::quoted(message) << "}}\n";
  } else {
    std::cerr << "walctl: " << message << "\n";
  }
  return 2;
}

std::unique_ptr<grpc::ClientContext> NewContext(const Options& options) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000)));
  if (!options.token.empty()) context->AddMetadata("authorization", "Bearer " + options.token);
  if (!options.request_id.empty()) context->AddMetadata("x-request-id", options.request_id);
  return context;
}

std::optional<std::string> ReadTextFile(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(stream), {});
}

// TLS when --tls or any certificate file is given; --ca-file verifies the
// server (else the system roots); --cert-file/--key-file present a client
// certificate (mTLS).
std::shared_ptr<grpc::Channel> Connect(const Options& options, std::string* error) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  arguments.SetMaxSendMessageSize(64 << 20);
  const bool tls = options.tls || !options.ca_file.empty() || !options.cert_file.empty() || !options.key_file.empty();
  if (!tls) return grpc::CreateCustomChannel(options.server, grpc::InsecureChannelCredentials(), arguments);
  grpc::SslCredentialsOptions ssl;
  if (!options.ca_file.empty()) {
    auto ca = ReadTextFile(options.ca_file);
    if (!ca) return *error = "--ca-file: cannot read " + options.ca_file, nullptr;
    ssl.pem_root_certs = *ca;
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return *error = "--cert-file and --key-file go together", nullptr;
  }
  if (!options.cert_file.empty()) {
    auto cert = ReadTextFile(options.cert_file);
    if (!cert) return *error = "--cert-file: cannot read " + options.cert_file, nullptr;
    auto key = ReadTextFile(options.key_file);
    if (!key) return *error = "--key-file: cannot read " + options.key_file, nullptr;
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::CreateCustomChannel(options.server, grpc::SslCredentials(ssl), arguments);
}

// "1500ms", "30s", "5m", "2h", "7d", or a bare number of seconds.
std::optional<int64_t> ParseDurationMs(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t digits = 0;
  while (digits < text.size() && (isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) ++digits;
  if (digits == 0) return std::nullopt;
  double number = 0;
  try {
    number = std::stod(text.substr(0, digits));
  } catch (...) {
    return std::nullopt;
  }
  const std::string unit = text.substr(digits);
  double scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s" || unit.empty()) scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else return std::nullopt;
  return static_cast<int64_t>(number * scale);
}

std::optional<std::string> ReadPayload(const std::string& argument, const std::string& file) {
  if (!file.empty()) {
    std::ifstream stream(file, std::ios::binary);
    if (!stream) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(stream), {});
  }
  if (argument == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  return argument;
}

// `write --each-line`: no deadline, since a stream of many writes (or a slow
// pipe) may legitimately run for long; interrupt it to stop.
int WriteEachLine(const Options& options, wal::v1::WriteAheadLog::Stub& stub, const wal::v1::WriteToLogRequest& base,
                  const std::string& source, bool progress) {
  std::ifstream file;
  if (source != "-") {
    file.open(source, std::ios::binary);
    if (!file) return ReportLocalFailure(options, "--each-line: cannot read " + source);
  }
  std::istream& input = source == "-" ? std::cin : file;
  grpc::ClientContext context;
  if (!options.token.empty()) context.AddMetadata("authorization", "Bearer " + options.token);
  if (!options.request_id.empty()) context.AddMetadata("x-request-id", options.request_id);
  walctl::StreamTally tally;
  grpc::Status rpc = walctl::StreamLines(
      stub, context, input,
      [&base](const std::string& line) {
        wal::v1::WriteToLogRequest request = base;
        request.mutable_payload()->set_opaque(line);
        return request;
      },
      progress || isatty(STDERR_FILENO), &tally);
  if (!rpc.ok()) return ReportRpcFailure(options, rpc);
  if (options.json) {
    std::cout << R"({"sent":)" << tally.sent << R"(,"true":)" << tally.durable_true << R"(,"false":)"
              << tally.durable_false << R"(,"unknown":)" << tally.durable_unknown << R"(,"refused":)" << tally.refused
              << "}\n";
  } else {
    std::cout << "sent=" << tally.sent << " true=" << tally.durable_true << " false=" << tally.durable_false
              << " unknown=" << tally.durable_unknown << " refused=" << tally.refused << "\n";
  }
  if (tally.refused > 0) return 1;
  return tally.all_true() ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"walctl: command-line client for the wal write-ahead-log service"};
  app.require_subcommand(1);
  Options options;
  app.add_option("--server", options.server, "wald gRPC address")->capture_default_str();
  app.add_flag("--json", options.json, "Print machine-readable JSON");
  app.add_option("--timeout", options.timeout_seconds, "Seconds to wait for the server")->capture_default_str();
  app.add_flag("--tls", options.tls, "Connect with TLS (implied by --ca-file/--cert-file/--key-file)");
  app.add_option("--ca-file", options.ca_file, "PEM CA bundle that signed the server's certificate");
  app.add_option("--cert-file", options.cert_file, "PEM client certificate (mTLS)");
  app.add_option("--key-file", options.key_file, "PEM client private key (mTLS)");
  app.add_option("--token", options.token, "Bearer token (default: $WAL_TOKEN; prefer the variable, argv is visible in ps)");
  app.add_option("--shard-map", options.shard_map, "Shard map file: send namespace commands to the namespace's shard");
  app.add_flag("--route", options.route,
               "Ask --server for the shard map in force and send namespace commands to the namespace's shard");
  app.add_option("--request-id", options.request_id, "x-request-id to send (the server logs it)");

  // write
  auto* write = app.add_subcommand("write", "Write one entry to a namespace's log");
  std::string write_namespace, payload_argument, payload_file, delay_text, op, key, table, partition, ttl_text,
      target_json, idempotency_key;
  write->add_option("namespace", write_namespace, "Namespace")->required();
  write->add_option("payload", payload_argument, "Payload text, or - for stdin");
  write->add_option("--file", payload_file, "Read the payload from a file");
  write->add_option("--delay", delay_text, "Delay before delivery, e.g. 500ms, 30s, 5m, 2h, 7d");
  write->add_option("--op", op, "Send a mutation instead of opaque bytes: put or delete")
      ->check(CLI::IsMember({"put", "delete"}));
  write->add_option("--key", key, "Mutation key");
  write->add_option("--table", table, "Mutation table");
  write->add_option("--partition", partition, "Mutation partition key");
  write->add_option("--ttl", ttl_text, "Mutation TTL, e.g. 1h");
  write->add_option("--target", target_json, R"(Target override as JSON, e.g. '{"type":"http","url":"http://127.0.0.1:8080/"}')");
  write->add_option("--idempotency-key", idempotency_key, "Idempotency key");
  std::string each_line;
  bool progress = false;
  write->add_option("--each-line", each_line,
                    "Write one entry per line of this file (- for stdin), over one stream; each line is a payload");
  write->add_flag("--progress", progress, "With --each-line: show progress on stderr (default when it is a terminal)");

  // namespaces
  auto* namespaces = app.add_subcommand("namespaces", "Manage namespaces");
  namespaces->require_subcommand(1);
  auto* namespaces_list = namespaces->add_subcommand("list", "List namespaces");
  std::string namespace_name, namespace_file;
  bool purge_data = false;
  auto* namespaces_get = namespaces->add_subcommand("get", "Show a namespace's config");
  namespaces_get->add_option("name", namespace_name)->required();
  auto* namespaces_apply = namespaces->add_subcommand("apply", "Create or update a namespace from a YAML/JSON file");
  namespaces_apply->add_option("file", namespace_file)->required();
  auto* namespaces_delete = namespaces->add_subcommand("delete", "Delete a namespace");
  namespaces_delete->add_option("name", namespace_name)->required();
  namespaces_delete->add_flag("--purge-data", purge_data, "Also remove its log data");

  // status
  auto* status = app.add_subcommand("status", "Per-namespace log end, pending and consumed");
  std::string status_namespace;
  status->add_option("namespace", status_namespace, "Only this namespace");

  // log read
  auto* log = app.add_subcommand("log", "Inspect a namespace's log");
  log->require_subcommand(1);
  auto* log_read = log->add_subcommand("read", "Print entries as JSON lines");
  std::string log_namespace;
  uint64_t from_id = 0;
  uint64_t limit = 100;
  log_read->add_option("namespace", log_namespace)->required();
  log_read->add_option("--from", from_id, "First entry id")->capture_default_str();
  log_read->add_option("--limit", limit, "Entries to print (all remaining if 0)")->capture_default_str();

  // dlq
  auto* dlq = app.add_subcommand("dlq", "Inspect and manage a namespace's dead-letter queue");
  dlq->require_subcommand(1);
  std::string dlq_namespace;
  uint64_t dlq_from = 0;
  uint64_t dlq_limit = 100;
  std::vector<uint64_t> dlq_ids;
  bool dlq_all = false;
  auto* dlq_list = dlq->add_subcommand("list", "One line per dead letter: id, attempts, last error");
  dlq_list->add_option("namespace", dlq_namespace)->required();
  dlq_list->add_option("--from", dlq_from)->capture_default_str();
  dlq_list->add_option("--limit", dlq_limit)->capture_default_str();
  auto* dlq_show = dlq->add_subcommand("show", "Print dead letters in full, as JSON lines");
  dlq_show->add_option("namespace", dlq_namespace)->required();
  dlq_show->add_option("ids", dlq_ids, "Only these ids");
  dlq_show->add_option("--from", dlq_from)->capture_default_str();
  dlq_show->add_option("--limit", dlq_limit)->capture_default_str();
  auto* dlq_redrive = dlq->add_subcommand("redrive", "Put dead letters back on the queue, attempts reset");
  dlq_redrive->add_option("namespace", dlq_namespace)->required();
  dlq_redrive->add_option("ids", dlq_ids, "Ids to redrive");
  dlq_redrive->add_flag("--all", dlq_all, "Redrive every dead letter");
  auto* dlq_purge = dlq->add_subcommand("purge", "Drop dead letters for good");
  dlq_purge->add_option("namespace", dlq_namespace)->required();
  dlq_purge->add_option("ids", dlq_ids, "Ids to purge");
  dlq_purge->add_flag("--all", dlq_all, "Purge every dead letter");

  // shards
  auto* shards = app.add_subcommand("shards", "Show or replace the shard map");
  shards->require_subcommand(1);
  auto* shards_get = shards->add_subcommand("get", "Print the shard map in force on --server and where it comes from");
  auto* shards_apply =
      shards->add_subcommand("apply", "Store a new shard map in the config store (every instance takes it)");
  std::string shard_map_file;
  shards_apply->add_option("file", shard_map_file, "Shard map YAML/JSON file")->required();

  CLI11_PARSE(app, argc, argv);
  if (options.token.empty()) {
    if (const char* token = std::getenv("WAL_TOKEN")) options.token = token;
  }
  if (!options.shard_map.empty() && options.route) {
    return ReportLocalFailure(options, "--shard-map and --route are alternatives; give one");
  }
  if (!options.shard_map.empty() || options.route) {
    // The namespace this command is about, if any, picks the shard.
    std::string routed;
    if (write->parsed()) routed = write_namespace;
    else if (namespaces_get->parsed() || namespaces_delete->parsed()) routed = namespace_name;
    else if (status->parsed()) routed = status_namespace;
    else if (log_read->parsed()) routed = log_namespace;
    else if (dlq->parsed()) routed = dlq_namespace;
    else if (namespaces_apply->parsed()) {
      auto config = wal::config::LoadNamespaceFile(wal::DefaultFileSystem(), namespace_file, wal::modules::BuiltinModules().catalog());
      if (config.ok()) routed = config->name;
    }
    wal::Result<wal::server::ShardMap> map = wal::InvalidArgument("no shard map");
    if (options.route) {
      std::string connect_error;
      auto bootstrap = Connect(options, &connect_error);
      if (!bootstrap) return ReportLocalFailure(options, connect_error);
      wal::v1::ShardMapResponse response;
      grpc::Status rpc = wal::v1::Admin::NewStub(bootstrap)->GetShardMap(NewContext(options).get(), {}, &response);
      if (!rpc.ok()) return ReportRpcFailure(options, rpc);
      map = response.map().empty() ? wal::server::ShardMap()
                                   : wal::server::ShardMap::Parse(response.map(), wal::config::Format::kYaml,
                                                                  options.server + " shard map");
      if (!map.ok()) return ReportLocalFailure(options, "--route: " + map.status().message());
    } else {
      map = wal::server::ShardMap::Load(wal::DefaultFileSystem(), options.shard_map);
      if (!map.ok()) return ReportLocalFailure(options, "--shard-map: " + map.status().message());
    }
    if (!routed.empty()) {
      if (const wal::server::Shard* shard = map->ShardOf(routed)) options.server = shard->addresses.front();
    }
  }
  std::string connect_error;
  auto channel = Connect(options, &connect_error);
  if (!channel) return ReportLocalFailure(options, connect_error);

  if (write->parsed()) {
    wal::v1::WriteToLogRequest request;
    request.set_namespace_(write_namespace);
    if (!each_line.empty()) {
      if (!payload_argument.empty() || !payload_file.empty()) {
        return ReportLocalFailure(options, "--each-line reads the payloads; give no payload argument or --file");
      }
      if (!op.empty()) return ReportLocalFailure(options, "--each-line writes opaque payloads; --op is not supported");
      if (!idempotency_key.empty()) {
        return ReportLocalFailure(options, "--idempotency-key names one write; it cannot go with --each-line");
      }
    }
    auto payload = each_line.empty() ? ReadPayload(payload_argument, payload_file) : std::optional<std::string>("");
    if (!payload) return ReportLocalFailure(options, "cannot read payload file " + payload_file);
    if (!delay_text.empty()) {
      if (delay_text.front() == '-') return ReportLocalFailure(options, "--delay: must not be negative");
      auto delay = ParseDurationMs(delay_text);
      if (!delay) return ReportLocalFailure(options, "--delay: cannot parse '" + delay_text + "'");
      *request.mutable_lifecycle()->mutable_delay() = TimeUtil::MillisecondsToDuration(*delay);
    }
    *request.mutable_lifecycle()->mutable_write_time() = TimeUtil::GetCurrentTime();
    if (op.empty()) {
      request.mutable_payload()->set_opaque(*payload);
    } else {
      auto* mutation = request.mutable_payload()->mutable_mutation();
      mutation->set_op(op == "put" ? wal::v1::Mutation::PUT : wal::v1::Mutation::DELETE);
      mutation->set_key(key);
      mutation->set_table(table);
      mutation->set_partition_key(partition);
      if (op == "put") mutation->set_value(*payload);
      if (!ttl_text.empty()) {
        auto ttl = ParseDurationMs(ttl_text);
        if (!ttl) return ReportLocalFailure(options, "--ttl: cannot parse '" + ttl_text + "'");
        *mutation->mutable_ttl() = TimeUtil::MillisecondsToDuration(*ttl);
      }
    }
    if (!target_json.empty()) {
      // The target's settings are every key beside "type", as in namespace files.
      google::protobuf::Struct document;
      auto parsed = google::protobuf::util::JsonStringToMessage(target_json, &document);
      if (!parsed.ok()) return ReportLocalFailure(options, "--target: " + std::string(parsed.message()));
      auto& fields = *document.mutable_fields();
      request.mutable_target()->set_type(fields["type"].string_value());
      fields.erase("type");
      *request.mutable_target()->mutable_settings() = document;
    }
    request.set_idempotency_key(idempotency_key);
    auto stub = wal::v1::WriteAheadLog::NewStub(channel);
    if (!each_line.empty()) return WriteEachLine(options, *stub, request, each_line, progress);
    wal::v1::WriteToLogResponse response;
    auto context = NewContext(options);
    grpc::Status rpc = stub->WriteToLog(context.get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    if (options.json) {
      std::cout << ToJson(response, false) << "\n";
    } else {
      std::cout << "durable=" << wal::v1::Durable_Name(response.durable()) << " id=" << response.id();
      if (!response.message().empty()) std::cout << " message=" << response.message();
      std::cout << "\n";
    }
    return response.durable() == wal::v1::TRUE ? 0 : 3;
  }

  auto admin = wal::v1::Admin::NewStub(channel);
  if (shards_get->parsed() || shards_apply->parsed()) {
    wal::v1::ShardMapResponse response;
    grpc::Status rpc;
    if (shards_apply->parsed()) {
      auto text = ReadTextFile(shard_map_file);
      if (!text) return ReportLocalFailure(options, "cannot read shard map file " + shard_map_file);
      // Checked here too, so a typo is reported before anything is sent.
      auto format = wal::config::FormatFromPath(shard_map_file);
      auto parsed = wal::server::ShardMap::Parse(*text, format.ok() ? *format : wal::config::Format::kYaml,
                                                 shard_map_file);
      if (!parsed.ok()) return ReportLocalFailure(options, parsed.status().message());
      wal::v1::ApplyShardMapRequest request;
      request.set_map(*text);
      rpc = admin->ApplyShardMap(NewContext(options).get(), request, &response);
    } else {
      rpc = admin->GetShardMap(NewContext(options).get(), {}, &response);
    }
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    if (options.json) {
      std::cout << ToJson(response, false) << "\n";
    } else {
      std::cout << "# source: " << response.source() << (response.shard().empty() ? "" : ", this shard: ")
                << response.shard() << "\n"
                << response.map();
      if (!response.map().empty() && response.map().back() != '\n') std::cout << "\n";
    }
    return 0;
  }
  if (namespaces_list->parsed()) {
    wal::v1::ListNamespacesResponse response;
    grpc::Status rpc = admin->ListNamespaces(NewContext(options).get(), {}, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    if (options.json) {
      std::cout << ToJson(response, false) << "\n";
    } else {
      for (const auto& name : response.names()) std::cout << name << "\n";
    }
    return 0;
  }
  if (namespaces_get->parsed()) {
    wal::v1::GetNamespaceRequest request;
    request.set_name(namespace_name);
    wal::v1::NamespaceResponse response;
    grpc::Status rpc = admin->GetNamespace(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    std::cout << ToJson(response.config(), !options.json) << "\n";
    return 0;
  }
  if (namespaces_apply->parsed()) {
    // Validate locally first so a bad file is reported with its own name.
    auto config = wal::config::LoadNamespaceFile(wal::DefaultFileSystem(), namespace_file, wal::modules::BuiltinModules().catalog());
    if (!config.ok()) return ReportLocalFailure(options, config.status().message());
    auto document = wal::server::NamespaceToStruct(*config);
    if (!document.ok()) return ReportLocalFailure(options, document.status().message());
    wal::v1::ApplyNamespaceRequest request;
    *request.mutable_config() = *document;
    wal::v1::NamespaceResponse response;
    grpc::Status rpc = admin->ApplyNamespace(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    if (options.json) std::cout << ToJson(response.config(), false) << "\n";
    else std::cout << "applied namespace " << config->name << "\n";
    return 0;
  }
  if (namespaces_delete->parsed()) {
    wal::v1::DeleteNamespaceRequest request;
    request.set_name(namespace_name);
    request.set_purge_data(purge_data);
    wal::v1::DeleteNamespaceResponse response;
    grpc::Status rpc = admin->DeleteNamespace(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    if (options.json) std::cout << R"({"deleted":)" << std::quoted(namespace_name) << "}\n";
    else std::cout << "deleted namespace " << namespace_name << "\n";
    return 0;
  }
  if (status->parsed()) {
    wal::v1::GetStatusRequest request;
    request.set_namespace_(status_namespace);
    wal::v1::GetStatusResponse response;
    grpc::Status rpc = admin->GetStatus(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    if (options.json) {
      std::cout << ToJson(response, false) << "\n";
      return 0;
    }
    std::printf("%-28s %-7s %10s %10s %10s %10s %9s %6s %s\n", "NAMESPACE", "BACKEND", "LOG_END", "CONSUMED",
                "PENDING", "DELAYED", "IN_FLIGHT", "DLQ", "STATE");
    auto number = [](uint64_t value) { return static_cast<unsigned long long>(value); };
    for (const auto& item : response.namespaces()) {
      std::printf("%-28s %-7s %10llu %10llu %10llu %10llu %9llu %6llu %s\n", item.name().c_str(),
                  item.backend().c_str(), number(item.log_end()), number(item.consumed()), number(item.pending()),
                  number(item.pending_delayed()), number(item.in_flight()), number(item.dead_letters()),
                  item.error().empty() ? "serving" : item.error().c_str());
    }
    return 0;
  }
  if (log_read->parsed()) {
    // Pages through the log so `--limit 0` can dump everything.
    uint64_t next = from_id;
    uint64_t remaining = limit;
    while (limit == 0 || remaining > 0) {
      wal::v1::ReadLogRequest request;
      request.set_namespace_(log_namespace);
      request.set_from_id(next);
      request.set_limit(static_cast<uint32_t>(limit == 0 ? 1000 : std::min<uint64_t>(remaining, 1000)));
      wal::v1::ReadLogResponse response;
      grpc::Status rpc = admin->ReadLog(NewContext(options).get(), request, &response);
      if (!rpc.ok()) return ReportRpcFailure(options, rpc);
      for (const auto& entry : response.entries()) std::cout << ToJson(entry, false) << "\n";
      if (response.entries().empty()) break;
      next = response.next_id();
      if (limit != 0) remaining -= std::min<uint64_t>(remaining, response.entries_size());
    }
    return 0;
  }
  if (dlq_list->parsed() || dlq_show->parsed()) {
    wal::v1::ListDeadLettersRequest request;
    request.set_namespace_(dlq_namespace);
    request.set_from_id(dlq_from);
    request.set_limit(static_cast<uint32_t>(std::min<uint64_t>(dlq_limit == 0 ? 10000 : dlq_limit, 10000)));
    wal::v1::ListDeadLettersResponse response;
    grpc::Status rpc = admin->ListDeadLetters(NewContext(options).get(), request, &response);
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    const std::set<uint64_t> wanted(dlq_ids.begin(), dlq_ids.end());
    for (const auto& entry : response.entries()) {
      if (!wanted.empty() && wanted.count(entry.id()) == 0) continue;
      if (dlq_show->parsed() || options.json) {
        std::cout << ToJson(entry, false) << "\n";
        continue;
      }
      const auto& fields = entry.record().fields();
      const auto attempts = fields.count("attempt") ? fields.at("attempt").number_value() : 0;
      std::string last_error;
      if (fields.count("errors") && fields.at("errors").list_value().values_size() > 0) {
        const auto& errors = fields.at("errors").list_value().values();
        last_error = errors[errors.size() - 1].string_value();
      }
      std::cout << entry.id() << "\tattempts=" << attempts << "\t" << last_error << "\n";
    }
    return 0;
  }
  if (dlq_redrive->parsed() || dlq_purge->parsed()) {
    if (dlq_ids.empty() && !dlq_all) return ReportLocalFailure(options, "name the ids to act on, or pass --all");
    if (!dlq_ids.empty() && dlq_all) return ReportLocalFailure(options, "pass ids or --all, not both");
    uint64_t count = 0;
    grpc::Status rpc;
    if (dlq_redrive->parsed()) {
      wal::v1::RedriveDeadLettersRequest request;
      request.set_namespace_(dlq_namespace);
      for (uint64_t id : dlq_ids) request.add_ids(id);
      wal::v1::RedriveDeadLettersResponse response;
      rpc = admin->RedriveDeadLetters(NewContext(options).get(), request, &response);
      count = response.redriven();
    } else {
      wal::v1::PurgeDeadLettersRequest request;
      request.set_namespace_(dlq_namespace);
      for (uint64_t id : dlq_ids) request.add_ids(id);
      request.set_all(dlq_all);
      wal::v1::PurgeDeadLettersResponse response;
      rpc = admin->PurgeDeadLetters(NewContext(options).get(), request, &response);
      count = response.purged();
    }
    if (!rpc.ok()) return ReportRpcFailure(options, rpc);
    const char* verb = dlq_redrive->parsed() ? "redriven" : "purged";
    if (options.json) std::cout << "{\"" << verb << "\":" << count << "}\n";
    else std::cout << verb << " " << count << " dead letters\n";
    return 0;
  }
  return 0;
}
