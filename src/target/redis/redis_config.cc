#include "target/redis/redis_config.h"

#include "config/duration.h"

namespace wal::target {

Status RedisTargetConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(reader.Field("address", &address));
  WAL_RETURN_IF_ERROR(reader.Field("password", &password));
  WAL_RETURN_IF_ERROR(reader.Field("db", &db));
  WAL_RETURN_IF_ERROR(reader.Field("timeout", &timeout));
  return reader.Field("key_prefix", &key_prefix);
}

Status RedisTargetConfig::Validate(const std::string& path) const {
  if (address.host.empty()) return config::FieldError(path + ".address", "required for target type 'redis'");
  WAL_RETURN_IF_ERROR(config::CheckRange<int64_t>(path + ".db", db, 0, 1 << 20));
  return config::CheckPositive(path + ".timeout", timeout);
}

void RedisTargetConfig::Write(config::Json& object) const {
  object["address"] = address.host.empty() ? std::string() : FormatHostPort(address);
  object["password"] = password;
  object["db"] = db;
  object["timeout"] = config::FormatDuration(timeout);
  object["key_prefix"] = key_prefix;
}

}  // namespace wal::target
