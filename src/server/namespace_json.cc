#include "server/namespace_json.h"

#include <google/protobuf/util/json_util.h>

namespace wal::server {

Result<google::protobuf::Struct> NamespaceToStruct(const config::NamespaceConfig& config) {
  google::protobuf::Struct document;
  auto parsed = google::protobuf::util::JsonStringToMessage(config::NamespaceToJson(config), &document);
  if (!parsed.ok()) return Internal("namespace " + config.name + ": " + std::string(parsed.message()));
  return document;
}

Result<config::NamespaceConfig> NamespaceFromStruct(const google::protobuf::Struct& document,
                                                    const config::ModuleCatalog& modules) {
  std::string json;
  auto printed = google::protobuf::util::MessageToJsonString(document, &json);
  if (!printed.ok()) return InvalidArgument("config: " + std::string(printed.message()));
  return config::NamespaceFromJson(json, "config", modules);
}

}  // namespace wal::server
