// The control plane's store of namespace configs (issue 7): where `wald` finds
// its namespaces at start, where the admin API saves a change, and what every
// instance watches so a change made on one reaches the others without a
// restart (server/config_watcher.h does the watching).
//
// Two stores ship: a directory of YAML/JSON files (the embedded default, one
// instance or instances sharing a filesystem) and a PostgreSQL table shared by
// any number of instances (docs/sharding.md, "Control plane").
//
// Adding a store means adding a class here and a case in OpenNamespaceStore;
// the engine and the watcher only see this interface.
//
// Threading: every method is thread-safe. Ownership: the caller owns the store
// and keeps it alive longer than the engine and the watcher that use it.
// Failure: methods return a Status; a store that cannot be reached answers
// kUnavailable and changes nothing. Messages never contain a password.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "config/config.h"
#include "config/module_catalog.h"

namespace wal::control {

// What a store holds: every valid namespace, and an error for each entry that
// does not parse or validate (one bad entry never hides the others).
struct StoreContents {
  std::vector<config::NamespaceConfig> namespaces;
  std::vector<Status> errors;
};

class NamespaceStore {
 public:
  virtual ~NamespaceStore() = default;

  // For log lines: "directory ./config/namespaces", "postgres host=... (table t)".
  virtual std::string Describe() const = 0;

  // Everything in the store. kUnavailable when the store cannot be read at all.
  virtual Result<StoreContents> LoadAll() = 0;

  // name -> an opaque revision that changes whenever that entry changes. Cheap
  // enough to call every poll interval. kUnavailable when unreachable.
  virtual Result<std::map<std::string, std::string>> Revisions() = 0;

  // One entry, parsed and validated. kNotFound when absent.
  virtual Result<config::NamespaceConfig> Load(const std::string& name) = 0;

  // Validates, then stores durably (atomically: a reader sees the old or the
  // new config, never a mix). On failure the stored entry is unchanged.
  virtual Status Save(const config::NamespaceConfig& config) = 0;

  // Removes the entry; kNotFound when there was none.
  virtual Status Remove(const std::string& name) = 0;

  // --- The shard map (docs/sharding.md), for stores that keep one. The store
  // holds the document as text; the server parses and validates it. ---
  struct StoredDocument {
    std::string text;
    std::string revision;  // opaque; changes whenever the document changes
  };
  virtual bool HoldsShardMap() const { return false; }
  // kNotFound when none has been stored yet.
  virtual Result<StoredDocument> LoadShardMap() {
    return FailedPrecondition(Describe() + " does not hold a shard map; name a shard_map file instead");
  }
  // Replaces the stored shard map (atomically).
  virtual Status SaveShardMap(const std::string& text) {
    (void)text;
    return FailedPrecondition(Describe() + " does not hold a shard map; edit the shard_map file instead");
  }

  // Stores that can push changes (PostgreSQL LISTEN/NOTIFY) call `on_change`
  // from their own thread as soon as any instance commits a change, so the
  // watcher need not wait for its next poll. Polling stays the safety net: a
  // store may call it late, twice, or never. Set before the watcher starts;
  // `on_change` must be cheap and must not call back into the store.
  virtual void SetChangeListener(std::function<void()> on_change) { (void)on_change; }
};

// The store a server config names: config_store.type directory (namespaces_dir)
// or postgres (config_store.dsn / table; the last contents read are cached in
// <data_dir>/config-store-cache so an instance restarted while PostgreSQL is
// down still serves its namespaces). Fails when the store cannot be set up.
Result<std::unique_ptr<NamespaceStore>> OpenNamespaceStore(const config::ServerConfig& server_config,
                                                           FileSystem* file_system, const config::ModuleCatalog& modules);

}  // namespace wal::control
