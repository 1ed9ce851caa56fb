// The one place that maps a target type to its implementation. Adding a
// target means one case here and a folder beside this file.
#include <string>

#include "target/http/http_target.h"
#include "target/kafka/kafka_target.h"
#include "target/memcached/memcached_target.h"
#include "target/postgres/postgres_target.h"
#include "target/redis/redis_target.h"
#include "target/replication/replication_target.h"
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

}  // namespace

Result<std::unique_ptr<Target>> CreateTarget(const config::TargetConfig& config, const TargetEnvironment& environment) {
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
      return AsTarget(PostgresTarget::FromSettings(config.settings_json));
    case config::TargetType::kKafka:
      return AsTarget(KafkaTarget::FromSettings(config.settings_json));
    case config::TargetType::kReplication:
      return AsTarget(ReplicationTarget::FromSettings(config.settings_json, environment));
    case config::TargetType::kNone:
      return InvalidArgument("target: type 'none' has no target to create");
  }
  return InvalidArgument("target: unknown target type");
}

}  // namespace wal::target
