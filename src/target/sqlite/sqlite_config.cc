#include "target/sqlite/sqlite_config.h"

#include <cctype>

#include "common/sql_identifier.h"
#include "config/duration.h"

namespace wal::target {
namespace {

bool IsValidPrefix(std::string_view prefix) {
  if (prefix.size() > 64) return false;
  for (char c : prefix) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

Status SqliteTargetConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(reader.NonEmptyField("path", &path));
  WAL_RETURN_IF_ERROR(reader.Field("table", &table));
  WAL_RETURN_IF_ERROR(reader.Field("table_prefix", &table_prefix));
  return reader.Field("busy_timeout", &busy_timeout);
}

Status SqliteTargetConfig::Validate(const std::string& at) const {
  WAL_RETURN_IF_ERROR(config::CheckRequired(at + ".path", path, "target type 'sqlite'"));
  if (!IsSqlIdentifier(table, 64) || table == kOpaqueTable) {
    return config::FieldError(at + ".table", "must match [A-Za-z_][A-Za-z0-9_]{0,63} and not be 'opaque', got " +
                                                 config::Quoted(table));
  }
  if (!IsValidPrefix(table_prefix)) {
    return config::FieldError(at + ".table_prefix", "must be at most 64 of [A-Za-z0-9_], got " +
                                                        config::Quoted(table_prefix));
  }
  return config::CheckPositive(at + ".busy_timeout", busy_timeout);
}

void SqliteTargetConfig::Write(config::Json& object) const {
  object["path"] = path;
  object["table"] = table;
  object["table_prefix"] = table_prefix;
  object["busy_timeout"] = config::FormatDuration(busy_timeout);
}

}  // namespace wal::target
