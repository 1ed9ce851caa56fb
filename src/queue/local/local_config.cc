#include "queue/local/local_config.h"

namespace wal::queue::local {

Status LocalBackendConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(reader.Field("segment_bytes", &segment_bytes));
  return reader.Field("preallocate", &preallocate);
}

Status LocalBackendConfig::Validate(const std::string& path) const {
  constexpr uint64_t kMiB = 1ull << 20;
  return config::CheckRange<uint64_t>(path + ".segment_bytes", segment_bytes, 4096, 4096 * kMiB);
}

void LocalBackendConfig::Write(config::Json& object) const {
  object["segment_bytes"] = segment_bytes;
  object["preallocate"] = preallocate;
}

}  // namespace wal::queue::local
