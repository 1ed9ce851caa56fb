#include "server/logging.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "common/log_context.h"
#include "server/server_test_support.h"

namespace wal::server {
namespace {

TEST(LoggingTest, OfferedRequestIdsAreKeptWhenSane) {
  EXPECT_EQ(RequestIdFrom("abc-123"), "abc-123");
  EXPECT_EQ(RequestIdFrom("").size(), 16u);
  EXPECT_EQ(RequestIdFrom("has \"quotes\"").size(), 16u);
  EXPECT_NE(NewRequestId(), NewRequestId());
  {
    RequestIdScope scope("r1");
    EXPECT_EQ(CurrentRequestId(), "r1");
  }
  EXPECT_EQ(CurrentRequestId(), "");
}

TEST(LoggingTest, JsonLinesCarryTheNamespaceAsAFieldOfItsOwn) {
  testing::CapturedLog log;
  ASSERT_TRUE(ConfigureLogging("info", "json").ok());
  spdlog::info("before any scope");
  {
    LogNamespaceScope outer("orders");
    RequestIdScope request("req-7");
    spdlog::info("namespace orders: applied");
    {
      LogNamespaceScope inner("pay\"ments");
      spdlog::info("inner");
    }
    spdlog::info("outer again");
  }
  spdlog::info("after");
  ASSERT_TRUE(ConfigureLogging("info", "text").ok());
  std::istringstream lines(log.text());
  std::vector<nlohmann::json> parsed;
  for (std::string line; std::getline(lines, line);) {
    parsed.push_back(nlohmann::json::parse(line, nullptr, false));
    ASSERT_FALSE(parsed.back().is_discarded()) << "not JSON: " << line;
  }
  ASSERT_EQ(parsed.size(), 5u) << log.text();
  EXPECT_FALSE(parsed[0].contains("namespace")) << parsed[0];
  EXPECT_EQ(parsed[1]["namespace"], "orders");
  EXPECT_EQ(parsed[1]["request_id"], "req-7");
  EXPECT_EQ(parsed[1]["msg"], "namespace orders: applied");
  EXPECT_EQ(parsed[2]["namespace"], "pay\"ments") << "escaped, and the inner scope wins";
  EXPECT_EQ(parsed[3]["namespace"], "orders");
  EXPECT_FALSE(parsed[4].contains("namespace"));
}

}  // namespace
}  // namespace wal::server
