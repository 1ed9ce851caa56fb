// The one place that maps a target type to its implementation. Adding a
// target means one case here and a folder beside this file.
#include <string>

#include "target/http/http_target.h"
#include "target/memcached/memcached_target.h"
#include "target/redis/redis_target.h"
#include "target/sqlite/sqlite_target.h"
#include "target/target.h"

namespace wal::target {
namespace {

// Upcasts a concrete factory's result to the interface.
template <typename Concrete>
Result<std::unique_ptr<Target>> AsTarget(Result<std::unique_ptr<Concrete>> created) {
  if (!created.ok()) return created.status();
  return std::unique_ptr<Target>(std::move(created).value());
}

Status NotInThisBuild(config::TargetType type) {
  return Unavailable("target type '" + std::string(config::TargetTypeName(type)) +
                     "' is not available in this build");
}

}  // namespace

Result<std::unique_ptr<Target>> CreateTarget(const config::TargetConfig& config) {
  switch (config.type) {
    case config::TargetType::kSqlite:
      return AsTarget(SqliteTarget::FromSettings(config.settings_json));
    case config::TargetType::kMemcached:
      return AsTarget(MemcachedTarget::FromSettings(config.settings_json));
    case config::TargetType::kRedis:
      return AsTarget(RedisTarget::FromSettings(config.settings_json));
    case config::TargetType::kHttp:
      return AsTarget(HttpTarget::FromSettings(config.settings_json));
    case config::TargetType::kPostgres:
    case config::TargetType::kKafka:
    case config::TargetType::kReplication:
      return NotInThisBuild(config.type);
    case config::TargetType::kNone:
      return InvalidArgument("target: type 'none' has no target to create");
  }
  return InvalidArgument("target: unknown target type");
}

}  // namespace wal::target
