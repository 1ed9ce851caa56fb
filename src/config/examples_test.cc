// Every shipped example under config/examples must load cleanly: they are the
// documentation users copy from.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/config.h"
#include "modules/builtin_modules.h"
#include "queue/kafka/kafka_config.h"
#include "queue/sqs/sqs_config.h"

namespace wal::config {
namespace {

const std::filesystem::path kExamplesDir = std::filesystem::path(WAL_SOURCE_DIR) / "config" / "examples";

const ModuleCatalog& Modules() { return modules::BuiltinModules().catalog(); }

TEST(ExamplesTest, EveryNamespaceExampleIsValid) {
  int namespace_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kExamplesDir)) {
    if (!entry.is_directory()) continue;
    // Each persona folder is a namespaces directory: name == file stem, no errors.
    DirectoryLoad load = LoadNamespaceDirectory(DefaultFileSystem(), entry.path().string(), Modules());
    for (const Status& error : load.errors) ADD_FAILURE() << error.message();
    namespace_files += static_cast<int>(load.namespaces.size());
    for (const NamespaceConfig& config : load.namespaces) {
      // And each survives the saver.
      auto again = ParseNamespace(SaveNamespace(config, Format::kYaml), Format::kYaml, config.name, Modules());
      ASSERT_TRUE(again.ok()) << again.status().message();
      EXPECT_EQ(again.value(), config);
    }
  }
  EXPECT_GE(namespace_files, 6);
}

TEST(ExamplesTest, ServerExampleIsValid) {
  auto loaded = LoadServerConfigFile(DefaultFileSystem(), (kExamplesDir / "server.yaml").string());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->grpc_listen, "127.0.0.1:7400");
  EXPECT_EQ(loaded->http_listen, "127.0.0.1:7401");
}

TEST(ExamplesTest, PersonaExamplesUseTheDocumentedBackends) {
  auto load = [](const std::string& relative) {
    return LoadNamespaceFile(DefaultFileSystem(), (kExamplesDir / relative).string(), Modules());
  };
  auto sqs = load("delayed-queue/delayed-deletes-sqs.yaml");
  ASSERT_TRUE(sqs.ok()) << sqs.status().message();
  EXPECT_EQ(sqs->backend.type(), "sqs");
  EXPECT_EQ(sqs->backend.settings.Get<queue::sqs::SqsBackendConfig>().endpoint, "http://127.0.0.1:9324");

  auto replication = load("cross-region-replication/evcache-replication.yaml");
  ASSERT_TRUE(replication.ok()) << replication.status().message();
  EXPECT_EQ(replication->backend.settings.Get<queue::kafka::KafkaBackendConfig>().topics,
            std::vector<std::string>{"evcache_foobar"});
  EXPECT_EQ(replication->target.type(), "replication");

  auto mutations = load("multi-partition-mutations/kv-mutations.yaml");
  ASSERT_TRUE(mutations.ok()) << mutations.status().message();
  EXPECT_EQ(mutations->target.type(), "postgres");
  EXPECT_EQ(mutations->durable_storage.type(), "postgres");
  EXPECT_EQ(mutations->targets.at("cache").type(), "redis");
  auto local_mutations = load("multi-partition-mutations/kv-mutations-local.yaml");
  ASSERT_TRUE(local_mutations.ok()) << local_mutations.status().message();
  EXPECT_EQ(local_mutations->durable_storage.type(), "local");
  EXPECT_EQ(local_mutations->target.type(), "sqlite");
  auto cassandra_mutations = load("multi-partition-mutations/kv-mutations-cassandra.yaml");
  ASSERT_TRUE(cassandra_mutations.ok()) << cassandra_mutations.status().message();
  EXPECT_EQ(cassandra_mutations->durable_storage.type(), "cassandra");
  EXPECT_EQ(cassandra_mutations->target.type(), "cassandra");
  EXPECT_EQ(cassandra_mutations->targets.at("cache").type(), "redis");
}

}  // namespace
}  // namespace wal::config
