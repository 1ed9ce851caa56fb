#include "control/namespace_store.h"

#include <unistd.h>

#include "control/directory_namespace_store.h"
#include "control/postgres_namespace_store.h"

namespace wal::control {

Result<std::unique_ptr<NamespaceStore>> OpenNamespaceStore(const config::ServerConfig& server_config,
                                                           FileSystem* file_system, const config::ModuleCatalog& modules) {
  const config::ConfigStoreConfig& store = server_config.config_store;
  if (store.type == "postgres") {
    PostgresStoreOptions options;
    options.dsn = store.dsn;
    options.table = store.table;
    options.cache_dir = server_config.data_dir + "/config-store-cache";
    options.modules = &modules;
    char host[256] = {};
    (void)::gethostname(host, sizeof(host) - 1);
    // Who changed a row, for an operator reading the table.
    options.instance = std::string(host) + "/" + server_config.grpc_listen + "/pid " + std::to_string(::getpid());
    WAL_ASSIGN_OR_RETURN(auto opened, PostgresNamespaceStore::Open(file_system, std::move(options)));
    return std::unique_ptr<NamespaceStore>(std::move(opened));
  }
  if (store.type == "directory") {
    WAL_ASSIGN_OR_RETURN(auto opened, DirectoryNamespaceStore::Open(file_system, server_config.namespaces_dir, modules));
    return std::unique_ptr<NamespaceStore>(std::move(opened));
  }
  return InvalidArgument("config_store.type: unknown store '" + store.type + "' (directory or postgres)");
}

}  // namespace wal::control
