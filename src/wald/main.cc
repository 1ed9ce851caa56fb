// wald: wires config -> engine -> gRPC and HTTP servers, then waits for a
// termination signal and shuts down gracefully.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <memory>

#include "config/config.h"
#include "engine/engine.h"
#include "server/grpc_services.h"
#include "server/health_service.h"
#include "server/http_gateway.h"

namespace {

int Fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wald: the wal write-ahead-log server"};
  std::string config_path;
  std::string data_dir;
  std::string namespaces_dir;
  std::string grpc_listen;
  std::string http_listen;
  std::string log_level;
  std::string role;
  app.add_option("--config", config_path, "Server config file (YAML or JSON)");
  app.add_option("--data-dir", data_dir, "Where namespaces' logs live (overrides the file)");
  app.add_option("--namespaces", namespaces_dir, "Directory of namespace config files (overrides the file)");
  app.add_option("--grpc-listen", grpc_listen, "gRPC address host:port (overrides the file)");
  app.add_option("--http-listen", http_listen, "HTTP address host:port (overrides the file)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (overrides the file)");
  app.add_option("--role", role, "producer|consumer|both: take writes, deliver, or both (overrides the file)");
  CLI11_PARSE(app, argc, argv);

  wal::FileSystem* file_system = wal::DefaultFileSystem();
  wal::config::ServerConfig server_config;
  if (!config_path.empty()) {
    auto loaded = wal::config::LoadServerConfigFile(file_system, config_path);
    if (!loaded.ok()) return Fail(loaded.status().message());
    server_config = std::move(loaded).value();
  }
  if (!data_dir.empty()) server_config.data_dir = data_dir;
  if (!namespaces_dir.empty()) server_config.namespaces_dir = namespaces_dir;
  if (!grpc_listen.empty()) server_config.grpc_listen = grpc_listen;
  if (!http_listen.empty()) server_config.http_listen = http_listen;
  if (!log_level.empty()) server_config.log_level = log_level;
  if (!role.empty()) server_config.role = role;
  auto parsed_role = wal::engine::ParseRole(server_config.role);
  if (!parsed_role.ok()) return Fail(parsed_role.status().message());
  spdlog::set_level(spdlog::level::from_str(server_config.log_level));

  // Termination signals are taken synchronously by the main thread below; block
  // them before any other thread starts so none of those threads receives them.
  sigset_t termination_signals;
  sigemptyset(&termination_signals);
  sigaddset(&termination_signals, SIGINT);
  sigaddset(&termination_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &termination_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  wal::engine::EngineOptions engine_options{file_system, server_config.data_dir, server_config.namespaces_dir,
                                            *parsed_role};
  auto created = wal::engine::Engine::Create(engine_options);
  if (!created.ok()) return Fail("engine: " + created.status().ToString());
  std::unique_ptr<wal::engine::Engine> engine = std::move(created).value();

  wal::server::WriteAheadLogService write_service(engine.get());
  wal::server::AdminService admin_service(engine.get());
  wal::server::HealthService health_service;
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(server_config.grpc_listen, grpc::InsecureServerCredentials(), &grpc_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(server_config.max_request_bytes));
  builder.RegisterService(&write_service);
  builder.RegisterService(&admin_service);
  builder.RegisterService(&health_service);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (!grpc_server || grpc_port == 0) return Fail("grpc: cannot listen on " + server_config.grpc_listen);

  wal::server::HttpGateway http(engine.get(), server_config.max_request_bytes);
  if (!server_config.http_listen.empty()) {  // an empty address turns HTTP off
    wal::Status http_started = http.Start(server_config.http_listen);
    if (!http_started.ok()) return Fail(http_started.message());
  }

  spdlog::info("wald serving gRPC on port {} and HTTP on port {} (data {}, namespaces {})", grpc_port, http.port(),
               server_config.data_dir, server_config.namespaces_dir);

  int received = 0;
  sigwait(&termination_signals, &received);
  spdlog::info("wald: signal {} received, shutting down", received);
  // Stop taking new calls, let in-flight ones finish (their appends complete
  // through the group commit), then close the logs.
  health_service.SetServing(false);
  grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  http.Stop();
  engine->Shutdown();
  spdlog::info("wald: stopped");
  return 0;
}
