// wald: wires config -> engine -> gRPC and HTTP servers, then waits for a
// termination signal and shuts down gracefully.
#include <absl/synchronization/mutex.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>

#include "config/config.h"
#include "control/namespace_store.h"
#include "engine/engine.h"
#include "log/log.h"
#include "modules/builtin_modules.h"
#include "server/auth.h"
#include "server/config_watcher.h"
#include "server/file_reloader.h"
#include "server/grpc_services.h"
#include "server/health_service.h"
#include "server/http_gateway.h"
#include "server/logging.h"
#include "server/metrics.h"
#include "server/request_gate.h"
#include "server/shard_map.h"
#include "server/shard_map_control.h"
#include "server/tls.h"
#include "wald/repair_command.h"

namespace {

int Fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

// One wald per data directory: two would open the same logs and corrupt each
// other. The lock lives as long as the process (the kernel drops it if wald
// dies, kill -9 included). Each log's own lock (log.lock) would stop the
// second wald too, but only at the first namespace it opens and with a message
// about one log; this one is taken before anything is opened or listened on.
wal::Result<std::unique_ptr<wal::FileLock>> LockDataDirectory(wal::FileSystem* file_system,
                                                              const std::string& data_dir) {
  WAL_RETURN_IF_ERROR(file_system->CreateDirectories(data_dir));
  auto lock = file_system->LockFile(wal::JoinPath(data_dir, "wald.lock"));
  if (!lock.ok()) return lock.status().WithContext("data directory " + data_dir + " is in use by another wald");
  return lock;
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC's mutexes are absl's, and Debian builds absl with deadlock detection
  // on: every lock acquisition updates a global lock-order graph, a few per
  // cent of a write's CPU. wald's own code does not use absl locks, and the
  // sanitizer builds still find lock-order problems.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"wald: the wal write-ahead-log server"};
  app.set_version_flag("--version", "wald " WAL_VERSION, "Print wald's version and exit");
  std::string config_path;
  std::string data_dir;
  std::string namespaces_dir;
  std::string grpc_listen;
  std::string http_listen;
  std::string log_level;
  std::string log_format;
  std::string role;
  std::string region;
  std::string shard_map_path;
  std::string shard;
  bool repair = false;
  std::string repair_namespace;
  app.add_option("--config", config_path, "Server config file (YAML or JSON)");
  app.add_option("--data-dir", data_dir, "Where namespaces' logs live (overrides the file)");
  app.add_option("--namespaces", namespaces_dir, "Directory of namespace config files (overrides the file)");
  app.add_option("--grpc-listen", grpc_listen, "gRPC address host:port (overrides the file)");
  app.add_option("--http-listen", http_listen, "HTTP address host:port (overrides the file)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (overrides the file)");
  app.add_option("--log-format", log_format, "text|json (overrides the file)");
  app.add_option("--region", region, "This instance's region, for cross-region replication (overrides the file)");
  app.add_option("--role", role, "producer|consumer|both: take writes, deliver, or both (overrides the file)");
  app.add_option("--shard-map", shard_map_path, "Shard map file (overrides the file; needs --shard)");
  app.add_option("--shard", shard, "This instance's shard in the shard map (overrides the file)");
  CLI::Option* repair_flag = app.add_flag("--repair", repair,
               "Offline: check every embedded log under the data directory, cut out mid-log damage, report what "
               "was dropped, and exit (wald must not be serving this data directory)");
  app.add_option("--namespace", repair_namespace, "With --repair: only this namespace's logs")
      ->needs(repair_flag);
  CLI11_PARSE(app, argc, argv);

  wal::FileSystem* file_system = wal::DefaultFileSystem();
  wal::config::ServerConfig server_config;
  if (!config_path.empty()) {
    auto loaded = wal::config::LoadServerConfigFile(file_system, config_path);
    if (!loaded.ok()) return Fail(loaded.status().message());
    server_config = std::move(loaded).value();
  }
  if (!data_dir.empty()) server_config.data_dir = data_dir;
  std::unique_ptr<wal::FileLock> data_dir_lock;  // held until main returns
  if (repair) {
    // A repair under a serving wald would rewrite the logs it appends to. A data
    // directory that does not exist holds nothing to repair (nor to lock).
    if (file_system->Exists(server_config.data_dir)) {
      auto locked = LockDataDirectory(file_system, server_config.data_dir);
      if (!locked.ok()) return Fail("wald --repair: " + locked.status().message());
      data_dir_lock = std::move(locked).value();
    }
    return wal::wald::RunRepair(file_system, server_config.data_dir, repair_namespace, std::cout);
  }
  if (!namespaces_dir.empty()) server_config.namespaces_dir = namespaces_dir;
  if (!grpc_listen.empty()) server_config.grpc_listen = grpc_listen;
  if (!http_listen.empty()) server_config.http_listen = http_listen;
  if (!log_level.empty()) server_config.log_level = log_level;
  if (!log_format.empty()) server_config.log_format = log_format;
  if (!role.empty()) server_config.role = role;
  if (!region.empty()) server_config.region = region;
  if (!shard_map_path.empty()) server_config.shard_map = shard_map_path;
  if (!shard.empty()) server_config.shard = shard;
  auto parsed_role = wal::engine::ParseRole(server_config.role);
  if (!parsed_role.ok()) return Fail(parsed_role.status().message());
  wal::Status logging = wal::server::ConfigureLogging(server_config.log_level, server_config.log_format);
  if (!logging.ok()) return Fail(logging.message());
  // Flags may have changed what the file said.
  wal::Status valid = wal::config::ValidateServerConfig(server_config);
  if (!valid.ok()) return Fail(valid.message());
  {
    auto locked = LockDataDirectory(file_system, server_config.data_dir);
    if (!locked.ok()) return Fail(locked.status().message());
    data_dir_lock = std::move(locked).value();
  }

  // Termination signals are taken synchronously by the main thread below; block
  // them before any other thread starts so none of those threads receives them.
  sigset_t termination_signals;
  sigemptyset(&termination_signals);
  sigaddset(&termination_signals, SIGINT);
  sigaddset(&termination_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &termination_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  wal::server::Metrics& metrics = wal::server::Metrics::Global();
  wal::log::SetFsyncObserver(
      [](std::chrono::nanoseconds elapsed, bool ok) { wal::server::Metrics::Global().FsyncObserved(elapsed, ok); });

  // The shard map, the tokens file and the TLS files: a bad one stops start-up
  // here; while running, each is reloaded when it changes (a bad new version is
  // logged and the one in force stays).
  const std::chrono::milliseconds reload_interval = server_config.config_store.poll_interval;
  std::shared_ptr<wal::server::Swappable<wal::server::ShardMap>> shard_map;  // null: not sharded
  std::unique_ptr<wal::server::FileReloader> shard_map_reloader;
  if (!server_config.shard_map.empty()) {
    shard_map = std::make_shared<wal::server::Swappable<wal::server::ShardMap>>();
    shard_map_reloader = wal::server::NewShardMapReloader(file_system, server_config.shard_map, server_config.shard,
                                                          reload_interval, shard_map);
    wal::Status loaded = shard_map_reloader->Load();
    if (!loaded.ok()) return Fail("shard map: " + loaded.message());
  }
  auto authenticator = std::make_shared<wal::server::Swappable<wal::server::Authenticator>>();
  std::unique_ptr<wal::server::FileReloader> tokens_reloader;
  if (!server_config.auth.tokens_file.empty()) {
    tokens_reloader = wal::server::NewTokensFileReloader(file_system, server_config.auth.tokens_file, reload_interval,
                                                         authenticator);
    wal::Status loaded = tokens_reloader->Load();
    if (!loaded.ok()) return Fail("auth: " + loaded.message());
  }
  // Declared before the servers that use it, so it outlives them.
  std::unique_ptr<wal::server::ServerTls> server_tls;
  std::shared_ptr<grpc::ServerCredentials> grpc_credentials = grpc::InsecureServerCredentials();
  if (!server_config.tls.cert_file.empty()) {
    auto loaded = wal::server::ServerTls::Load(file_system, server_config.tls, reload_interval);
    if (!loaded.ok()) return Fail("tls: " + loaded.status().message());
    server_tls = std::move(loaded).value();
    grpc_credentials = server_tls->GrpcCredentials();
  }

  // Every backend, target and set store of this build (src/modules).
  const wal::modules::ModuleRegistry& modules = wal::modules::BuiltinModules();
  auto namespace_store = wal::control::OpenNamespaceStore(server_config, file_system, modules.catalog());
  if (!namespace_store.ok()) return Fail("config store: " + namespace_store.status().message());
  wal::engine::EngineOptions engine_options{file_system, server_config.data_dir, server_config.namespaces_dir,
                                            *parsed_role, server_config.region, namespace_store->get(),
                                            {&modules.catalog(), &modules, &modules, &modules}};
  auto created = wal::engine::Engine::Create(engine_options);
  if (!created.ok()) return Fail("engine: " + created.status().ToString());
  std::unique_ptr<wal::engine::Engine> engine = std::move(created).value();

  // Where the shard map comes from: a file (reloaded above), the config store
  // (shard without shard_map; followed by the config watcher), or nowhere.
  std::unique_ptr<wal::server::ShardMapControl> shard_maps = std::make_unique<wal::server::ShardMapControl>();
  if (!server_config.shard_map.empty()) {
    shard_maps = wal::server::ShardMapControl::ForFile(shard_map, server_config.shard, server_config.shard_map);
  } else if (!server_config.shard.empty()) {
    shard_map = std::make_shared<wal::server::Swappable<wal::server::ShardMap>>();
    shard_maps = wal::server::ShardMapControl::ForStore(shard_map, server_config.shard, namespace_store->get());
    wal::Status loaded = shard_maps->Refresh();
    if (loaded.code() == wal::StatusCode::kNotFound) {
      spdlog::warn("shard {}: no shard map is stored yet; every namespace is served here until one is applied "
                   "(walctl shards apply)", server_config.shard);
    } else if (loaded.code() == wal::StatusCode::kInvalidArgument) {
      return Fail("shard map: " + loaded.message());
    } else if (!loaded.ok()) {
      spdlog::warn("shard map: {}; retried on every config-store poll", loaded.message());
    }
  }

  wal::server::RequestGate gate(engine.get(), authenticator, shard_map, server_config.shard);
  wal::server::WriteAheadLogService write_service(engine.get(), &gate, &metrics);
  wal::server::AdminService admin_service(engine.get(), &gate, shard_maps.get(), &metrics);
  wal::server::HealthService health_service;
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(server_config.grpc_listen, grpc_credentials, &grpc_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(server_config.max_request_bytes));
  builder.RegisterService(&write_service);
  builder.RegisterService(&admin_service);
  builder.RegisterService(&health_service);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (!grpc_server || grpc_port == 0) return Fail("grpc: cannot listen on " + server_config.grpc_listen);

  wal::server::HttpGatewayOptions http_options;
  http_options.max_request_bytes = server_config.max_request_bytes;
  http_options.max_connections = server_config.http_max_connections;
  http_options.tls = server_tls.get();
  http_options.gate = &gate;
  http_options.metrics = &metrics;
  http_options.shard_maps = shard_maps.get();
  wal::server::HttpGateway http(engine.get(), http_options);
  if (!server_config.http_listen.empty()) {  // an empty address turns HTTP off
    wal::Status http_started = http.Start(server_config.http_listen);
    if (!http_started.ok()) return Fail(http_started.message());
  }

  // Changes other instances make to the shared namespace store become live here.
  wal::server::ConfigWatcher watcher(engine.get(), namespace_store->get(), server_config.config_store.poll_interval,
                                     &metrics);
  watcher.AlsoPoll([control = shard_maps.get()] { (void)control->Refresh(); });
  watcher.Start();
  for (wal::server::FileReloader* reloader : {shard_map_reloader.get(), tokens_reloader.get()}) {
    if (reloader != nullptr) reloader->Start();
  }
  if (server_tls) server_tls->Start();

  spdlog::info("wald serving gRPC on port {} and HTTP on port {} (data {}, namespaces {}, tls {}, auth {}, shard {})",
               grpc_port, http.port(), server_config.data_dir, (*namespace_store)->Describe(),
               server_config.tls.cert_file.empty() ? "off" : (server_config.tls.client_ca_file.empty() ? "on" : "mutual"),
               server_config.auth.tokens_file.empty() ? "per-namespace" : "on",
               server_config.shard.empty() ? "-" : server_config.shard);

  int received = 0;
  sigwait(&termination_signals, &received);
  spdlog::info("wald: signal {} received, shutting down", received);
  // Graceful shutdown: refuse new writes (UNAVAILABLE, so clients retry
  // elsewhere), let in-flight ones finish (their appends complete through the
  // group commit and are answered), stop taking calls, stop the config watcher
  // and the file reloaders, then stop delivery and checkpoint and close every log.
  gate.BeginDrain();
  metrics.SetDraining(true);
  health_service.SetServing(false);
  grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  spdlog::debug("wald: gRPC stopped");
  http.Stop();
  spdlog::debug("wald: HTTP stopped");
  watcher.Stop();
  spdlog::debug("wald: config watcher stopped");
  for (wal::server::FileReloader* reloader : {shard_map_reloader.get(), tokens_reloader.get()}) {
    if (reloader != nullptr) reloader->Stop();
  }
  if (server_tls) server_tls->Stop();
  engine->Shutdown();
  spdlog::info("wald: stopped");
  return 0;
}
