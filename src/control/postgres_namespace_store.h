// Namespace configs in one PostgreSQL table shared by every instance of a
// deployment (config_store: {type: postgres, dsn, table}).
//
//   <table>(name text primary key, config text /* YAML */, revision bigint,
//           updated_at timestamptz, updated_by text)
//
// A trigger gives every insert/update a fresh revision from a sequence and
// sends NOTIFY on a channel named after the table, so changes made with plain
// SQL propagate exactly like those made through the admin API. The shard map,
// when kept here, is the one row of <table>_shard_map, with its own trigger on
// the same channel. Each store
// keeps one extra connection LISTENing on that channel and calls the change
// listener when a notification arrives; the watcher's polling of Revisions()
// covers a lost listen connection.
//
// The last contents read are mirrored into a cache directory (one YAML file per
// namespace). When PostgreSQL cannot be reached at start, LoadAll() serves the
// cache, with a warning, so a restart during a control-plane outage does not
// take the data path down; the watcher catches up once PostgreSQL is back.
//
// Threading: thread-safe; the listener runs on its own thread, joined by the
// destructor. Failure: an unreachable server is kUnavailable; a row that does
// not parse is an error entry in LoadAll() and kInvalidArgument from Load().
// The DSN's password never appears in a message.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>

#include "control/namespace_store.h"

namespace wal::pg {
class PgPool;
struct PgError;
}

namespace wal::control {

struct PostgresStoreOptions {
  std::string dsn;
  std::string table = "wal_namespaces";
  std::string cache_dir;                                 // empty: no cache
  std::chrono::milliseconds timeout{5000};               // connect and statement timeout
  std::string instance;                                  // written to updated_by; e.g. host:port
  const config::ModuleCatalog* modules = nullptr;        // decodes rows' module sections; outlives the store
};

class PostgresNamespaceStore final : public NamespaceStore {
 public:
  // Never fails on an unreachable server (the schema is created on first
  // contact); fails only on a bad table name or an unusable cache directory.
  static Result<std::unique_ptr<PostgresNamespaceStore>> Open(FileSystem* file_system, PostgresStoreOptions options);
  ~PostgresNamespaceStore() override;

  std::string Describe() const override;
  Result<StoreContents> LoadAll() override;
  Result<std::map<std::string, std::string>> Revisions() override;
  Result<config::NamespaceConfig> Load(const std::string& name) override;
  Status Save(const config::NamespaceConfig& config) override;
  Status Remove(const std::string& name) override;
  void SetChangeListener(std::function<void()> on_change) override;
  bool HoldsShardMap() const override { return true; }
  Result<StoredDocument> LoadShardMap() override;
  Status SaveShardMap(const std::string& text) override;

 private:
  PostgresNamespaceStore(FileSystem* file_system, PostgresStoreOptions options);
  // Creates the sequence, table, trigger function and trigger once per process
  // (under an advisory lock, so instances starting together do not race).
  Status EnsureSchema();
  // The Status for a failed statement; forgets the schema if a table vanished.
  Status Failed(const pg::PgError& error);
  Result<config::NamespaceConfig> ParseRow(const std::string& name, const std::string& text) const;
  void CachePut(const config::NamespaceConfig& config);
  void CacheRemove(const std::string& name);
  void CacheKeepOnly(const std::map<std::string, std::string>& names);
  void ListenLoop();

  FileSystem* const file_system_;
  const PostgresStoreOptions options_;
  const std::string channel_;  // NOTIFY channel: the table name in lower case
  std::unique_ptr<pg::PgPool> pool_;
  std::mutex schema_mutex_;
  bool schema_ready_ = false;

  std::function<void()> on_change_;
  std::thread listener_;
  int stop_fd_ = -1;  // eventfd: wakes the listener to exit
  std::atomic<bool> stopping_{false};
};

}  // namespace wal::control
