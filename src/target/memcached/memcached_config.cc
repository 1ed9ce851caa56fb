#include "target/memcached/memcached_config.h"

#include "config/duration.h"

namespace wal::target {

Status MemcachedTargetConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(reader.NonEmptyField("servers", &servers));
  return ReadCacheSettings(reader);
}

Status MemcachedTargetConfig::ReadCacheSettings(config::ObjectReader& reader) {
  WAL_RETURN_IF_ERROR(reader.Field("timeout", &timeout));
  WAL_RETURN_IF_ERROR(reader.Field("key_prefix", &key_prefix));
  return reader.Field("max_item_bytes", &max_item_bytes);
}

Status MemcachedTargetConfig::Validate(const std::string& path) const {
  if (servers.empty()) return config::FieldError(path + ".servers", "required for target type 'memcached'");
  return ValidateCacheSettings(path);
}

Status MemcachedTargetConfig::ValidateCacheSettings(const std::string& path) const {
  WAL_RETURN_IF_ERROR(config::CheckPositive(path + ".timeout", timeout));
  for (char c : key_prefix) {
    // memcached's text protocol ends a key at whitespace and forbids control bytes.
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return config::FieldError(path + ".key_prefix", "must not contain whitespace or control characters");
    }
  }
  if (key_prefix.size() >= kMaxKeyBytes) {
    return config::FieldError(path + ".key_prefix", "must be shorter than " + std::to_string(kMaxKeyBytes) + " bytes");
  }
  return config::CheckRange<uint64_t>(path + ".max_item_bytes", max_item_bytes, 1024, uint64_t{1} << 30);
}

void MemcachedTargetConfig::Write(config::Json& object) const {
  config::Json list = config::Json::array();
  for (const HostPort& server : servers) list.push_back(FormatHostPort(server));
  object["servers"] = std::move(list);
  WriteCacheSettings(object);
}

void MemcachedTargetConfig::WriteCacheSettings(config::Json& object) const {
  object["timeout"] = config::FormatDuration(timeout);
  object["key_prefix"] = key_prefix;
  object["max_item_bytes"] = max_item_bytes;
}

}  // namespace wal::target
