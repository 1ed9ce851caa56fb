#include "config/module_catalog.h"

namespace wal::config {

std::string_view ModuleKindName(ModuleKind kind) {
  switch (kind) {
    case ModuleKind::kBackend: return "backend";
    case ModuleKind::kTarget: return "target";
    case ModuleKind::kDurableStorage: return "durable_storage";
  }
  return "module";
}

Status ModuleCatalog::Add(ModuleKind kind, ModuleSchema schema) {
  const std::string where = std::string(ModuleKindName(kind)) + " module " + Quoted(schema.type);
  if (schema.type.empty() || !schema.read) return InvalidArgument(where + ": needs a type name and a reader");
  std::vector<std::string_view> names = {schema.type};
  names.insert(names.end(), schema.aliases.begin(), schema.aliases.end());
  for (std::string_view name : names) {
    if (Find(kind, name) != nullptr || (kind == ModuleKind::kTarget && EqualsIgnoringCase(name, "none"))) {
      return AlreadyExists(where + ": the name " + Quoted(name) + " is already taken");
    }
  }
  // Which keys the module reads: its reader, run over an empty object, asks
  // for each of them (absent keys keep their defaults, so it cannot fail).
  static const Json kEmpty = Json::object();
  Entry entry{kind, std::move(schema), {}};
  auto reader = ObjectReader::Open(kEmpty, "");
  if (reader.ok() && entry.schema.read(*reader, DecodeContext{}).ok()) {
    for (std::string_view key : reader->KnownKeys()) entry.keys.emplace_back(key);
  }
  entries_.push_back(std::move(entry));
  return Status::Ok();
}

const ModuleSchema* ModuleCatalog::Find(ModuleKind kind, std::string_view name) const {
  for (const Entry& entry : entries_) {
    if (entry.kind != kind) continue;
    if (EqualsIgnoringCase(entry.schema.type, name)) return &entry.schema;
    for (const std::string& alias : entry.schema.aliases) {
      if (EqualsIgnoringCase(alias, name)) return &entry.schema;
    }
  }
  return nullptr;
}

std::vector<std::string_view> ModuleCatalog::Types(ModuleKind kind) const {
  std::vector<std::string_view> types;
  for (const Entry& entry : entries_) {
    if (entry.kind == kind) types.push_back(entry.schema.type);
  }
  return types;
}

std::vector<std::string_view> ModuleCatalog::Aliases(ModuleKind kind) const {
  std::vector<std::string_view> aliases;
  for (const Entry& entry : entries_) {
    if (entry.kind == kind) aliases.insert(aliases.end(), entry.schema.aliases.begin(), entry.schema.aliases.end());
  }
  return aliases;
}

std::string_view ModuleCatalog::OtherTypeReading(ModuleKind kind, std::string_view type, std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.kind != kind || entry.schema.type == type) continue;
    for (const std::string& known : entry.keys) {
      if (known == key) return entry.schema.type;
    }
  }
  return "";
}

}  // namespace wal::config
