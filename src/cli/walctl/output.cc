#include "cli/walctl/output.h"

#include <google/protobuf/util/json_util.h>

#include <iostream>

#include "common/base64.h"
#include "common/utf8.h"
#include "config/yaml_json.h"

namespace walctl {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
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
}

void EmitError(const Options& options, const char* code, const std::string& message) {
  if (options.format == OutputFormat::kTable) {
    std::cerr << "walctl: " << (code[0] == '\0' ? "" : std::string(code) + ": ") << message << "\n";
    return;
  }
  Emit(options, Tree{{"error", {{"code", code[0] == '\0' ? "INVALID_ARGUMENT" : code}, {"message", message}}}});
}

// `text` decoded from base64 to text or JSON, when it is UTF-8.
void DecodeBytesField(Tree& field) {
  if (!field.is_string()) return;
  auto bytes = wal::Base64Decode(field.get<std::string>());
  if (!bytes.ok() || !wal::IsValidUtf8(*bytes)) return;
  Tree json = Tree::parse(*bytes, nullptr, false);
  field = !json.is_discarded() && (json.is_object() || json.is_array()) ? json : Tree(*bytes);
}

void DecodeWithin(Tree& node) {
  if (node.is_array()) {
    for (Tree& item : node) DecodeWithin(item);
    return;
  }
  if (!node.is_object()) return;
  for (auto& [key, value] : node.items()) {
    if (key == "opaque" || key == "key" || key == "value") {
      DecodeBytesField(value);
    } else {
      DecodeWithin(value);
    }
  }
}

}  // namespace

void DecodePayloadBytes(Tree& entry) {
  if (entry.contains("record") && entry["record"].contains("payload")) DecodeWithin(entry["record"]["payload"]);
}

Tree MessageTree(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  print.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, print);
  // The printer's output always parses; the no-throw overload keeps it so.
  Tree tree = Tree::parse(json, nullptr, false);
  return tree.is_discarded() ? Tree::object() : tree;
}

void Emit(const Options& options, const Tree& tree) {
  if (options.format == OutputFormat::kYaml) {
    // The YAML emitter takes the insertion-ordered tree; converting from the
    // sorted one keeps the sorted order.
    std::cout << "---\n" << wal::config::JsonToYamlText(wal::config::Json::parse(tree.dump(-1, ' ', false, Tree::error_handler_t::replace), nullptr, false));
    return;
  }
  std::cout << tree.dump(-1, ' ', false, Tree::error_handler_t::replace) << "\n";
}

int ReportRpcFailure(const Options& options, const grpc::Status& status, grpc::Channel* channel) {
  EmitError(options, CodeName(status.error_code()), status.error_message());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return kExitUnreachable;
  // A deadline that passed with no connection up is a server that never
  // answered, not a slow call.
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && channel != nullptr &&
      channel->GetState(false) != GRPC_CHANNEL_READY) {
    return kExitUnreachable;
  }
  return kExitRefused;
}

int ReportLocalFailure(const Options& options, const std::string& message) {
  EmitError(options, "", message);
  return kExitUsage;
}

}  // namespace walctl
