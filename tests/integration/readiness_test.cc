// A namespace that cannot be served shows, with its reason, wherever an
// operator looks: /readyz, walctl status and the wal_namespace_writable metric.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "wald_process.h"

namespace wal::testing {
namespace {

TEST(Readiness, ANamespaceThatFailedToLoadIsListedWithItsReason) {
  TempDir dir;
  WaldProcess wald(dir.path());
  wald.WriteNamespaceFile("orders", "name: orders\nbackend: {type: local}\n");
  wald.WriteNamespaceFile("broken", "name: broken\nbackend: {type: local}\n");
  // Its data directory is a plain file: the log cannot be opened.
  std::filesystem::create_directories(wald.data_dir() + "/namespaces");
  std::ofstream(wald.data_dir() + "/namespaces/broken") << "not a directory";
  wald.Start();

  httplib::Client client("127.0.0.1", wald.http_port());
  client.set_read_timeout(10, 0);
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);  // orders still serves
  auto body = nlohmann::json::parse(ready->body);
  EXPECT_EQ(body["status"], "degraded") << ready->body;
  ASSERT_EQ(body["failing"].size(), 1u) << ready->body;
  EXPECT_EQ(body["failing"][0]["name"], "broken");
  EXPECT_FALSE(body["failing"][0]["error"].get<std::string>().empty()) << ready->body;

  CommandResult status = wald.Walctl({"--json", "status", "broken"});
  EXPECT_NE(status.output.find("\"writable\":false"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("\"error\":\""), std::string::npos) << status.output;

  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("wal_namespace_writable{namespace=\"broken\"} 0"), std::string::npos);
  EXPECT_NE(metrics->body.find("wal_namespace_writable{namespace=\"orders\"} 1"), std::string::npos);
}

TEST(Readiness, AllServingIsReady) {
  TempDir dir;
  WaldProcess wald(dir.path());
  wald.WriteNamespaceFile("orders", "name: orders\nbackend: {type: local}\n");
  wald.Start();
  httplib::Client client("127.0.0.1", wald.http_port());
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  auto body = nlohmann::json::parse(ready->body);
  EXPECT_EQ(body["status"], "ready");
  EXPECT_TRUE(body["failing"].empty());
  EXPECT_EQ(body["namespaces"], 1);
}

}  // namespace
}  // namespace wal::testing
