// Which module types exist, and how to decode each one's settings.
//
// config/ knows the parts every namespace has; the backends, targets and
// mutation-set stores are modules that bring their own settings
// (module_config.h). The catalog maps a kind and a type name to the module's
// decoder. The namespace decoder (ParseNamespace and friends) reaches the
// modules only through it: for "did you mean" on a type name, to decode a
// backend block, a target's keys or durable_storage's keys, and to say which
// other type a stray key belongs to.
//
// The catalog wald uses is filled by src/modules/ (one line per module); tests
// may fill their own.
//
// Threading: fill it once, then share it read-only (every const method is
// safe from any thread). Failure: Add refuses a duplicate name.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::config {

enum class ModuleKind { kBackend, kTarget, kDurableStorage };

// "backend", "target" or "durable_storage": the config section of the kind.
std::string_view ModuleKindName(ModuleKind kind);

struct ModuleSchema {
  std::string type;                  // canonical type name ("replication")
  std::vector<std::string> aliases;  // also accepted, matched like `type` ("evc-replication")
  // Reads the settings from `reader` (types only; see module_config.h) into a
  // ModuleConfig. The caller validates and reports unknown keys.
  std::function<Result<ModuleConfig>(ObjectReader& reader, const DecodeContext& context)> read;
};

// The schema of a settings struct of the shape module_config.h describes.
template <typename T>
ModuleSchema SchemaFor() {
  ModuleSchema schema;
  schema.type = std::string(T::kType);
  if constexpr (requires { T::kAliases; }) {
    for (std::string_view alias : T::kAliases) schema.aliases.emplace_back(alias);
  }
  schema.read = [](ObjectReader& reader, const DecodeContext& context) -> Result<ModuleConfig> {
    T settings;
    WAL_RETURN_IF_ERROR(settings.Read(reader, context));
    return ModuleConfig::Of(std::move(settings));
  };
  return schema;
}

class ModuleCatalog {
 public:
  // Registers a module type. Names (types and aliases) are unique per kind,
  // ignoring case; "none" is reserved for targets (no target).
  Status Add(ModuleKind kind, ModuleSchema schema);

  // The module whose type or alias is `name` (ignoring case); nullptr if none.
  const ModuleSchema* Find(ModuleKind kind, std::string_view name) const;

  // Canonical type names in registration order, and the aliases in the same
  // order: what an error lists as accepted.
  std::vector<std::string_view> Types(ModuleKind kind) const;
  std::vector<std::string_view> Aliases(ModuleKind kind) const;

  // The canonical type of another module of `kind` than `type` that reads
  // `key`, or "" when none does (so a stray key can be explained as belonging
  // to another type).
  std::string_view OtherTypeReading(ModuleKind kind, std::string_view type, std::string_view key) const;

 private:
  struct Entry {
    ModuleKind kind;
    ModuleSchema schema;
    std::vector<std::string> keys;  // every key its Read asks for
  };
  std::vector<Entry> entries_;
};

}  // namespace wal::config
