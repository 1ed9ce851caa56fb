// Namespace configs travel through the admin API as google.protobuf.Struct,
// holding exactly the schema of docs/configuration.md.
#pragma once

#include <google/protobuf/struct.pb.h>

#include "common/status.h"
#include "config/config.h"
#include "config/module_catalog.h"

namespace wal::server {

Result<google::protobuf::Struct> NamespaceToStruct(const config::NamespaceConfig& config);
// Decodes and validates `document` with `modules` (the engine's catalog).
Result<config::NamespaceConfig> NamespaceFromStruct(const google::protobuf::Struct& document,
                                                    const config::ModuleCatalog& modules);

}  // namespace wal::server
