// The one place that lists the build's modules. Adding a backend, target or
// set store is its folder plus one line here (docs/adding-a-module.md).
#include "modules/builtin_modules.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "queue/kafka/kafka_backend.h"
#include "queue/local/local_backend.h"
#include "queue/sqs/sqs_backend.h"
#include "sets/cassandra/cassandra_set_store.h"
#include "sets/local/local_set_store.h"
#include "sets/postgres/postgres_set_store.h"
#include "target/cassandra/cassandra_target.h"
#include "target/http/http_target.h"
#include "target/kafka/kafka_target.h"
#include "target/memcached/memcached_target.h"
#include "target/postgres/postgres_target.h"
#include "target/redis/redis_target.h"
#include "target/replication/replication_target.h"
#include "target/sqlite/sqlite_target.h"

namespace wal::modules {
namespace {

std::unique_ptr<ModuleRegistry> Register() {
  auto registry = std::make_unique<ModuleRegistry>();
  // Registration order is the order "must be one of ..." lists the types in.
  const Status added[] = {
      registry->Add(queue::local::Module()),
      registry->Add(queue::kafka::Module()),
      registry->Add(queue::sqs::Module()),
      registry->Add(target::SqliteTarget::Module()),
      registry->Add(target::MemcachedTarget::Module()),
      registry->Add(target::RedisTarget::Module()),
      registry->Add(target::PostgresTarget::Module()),
      registry->Add(target::KafkaTarget::Module()),
      registry->Add(target::HttpTarget::Module()),
      registry->Add(target::ReplicationTarget::Module()),
      registry->Add(target::CassandraTarget::Module()),
      registry->Add(sets::LocalSetStore::Module()),
      registry->Add(sets::PostgresSetStore::Module()),
      registry->Add(sets::CassandraSetStore::Module()),
  };
  for (const Status& status : added) {
    // Two modules claiming one name is a build mistake, not an input: stop.
    if (!status.ok()) {
      std::fprintf(stderr, "wal: module registration: %s\n", status.ToString().c_str());
      std::abort();
    }
  }
  return registry;
}

}  // namespace

const ModuleRegistry& BuiltinModules() {
  static const std::unique_ptr<ModuleRegistry> registry = Register();
  return *registry;
}

}  // namespace wal::modules
