// Namespace configs travel through the admin API as google.protobuf.Struct,
// holding exactly the schema of docs/configuration.md.
#pragma once

#include <google/protobuf/struct.pb.h>

#include "common/status.h"
#include "config/config.h"

namespace wal::server {

Result<google::protobuf::Struct> NamespaceToStruct(const config::NamespaceConfig& config);
Result<config::NamespaceConfig> NamespaceFromStruct(const google::protobuf::Struct& document);

}  // namespace wal::server
