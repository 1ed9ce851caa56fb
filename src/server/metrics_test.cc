#include "server/metrics.h"

#include <gtest/gtest.h>

#include "server/server_test_support.h"

namespace wal::server {
namespace {

class MetricsTest : public testing::EngineFixture {};

TEST_F(MetricsTest, RendersCountersHistogramsAndGauges) {
  Open({{"orders", "name: orders\ndelay: {default: 1h}\n"}});
  Metrics metrics;
  metrics.WriteAnswered("orders", v1::TRUE, std::chrono::milliseconds(2));
  metrics.WriteAnswered("orders", v1::FALSE, std::chrono::milliseconds(3));
  metrics.WriteRejected("", StatusCode::kNotFound);
  metrics.FsyncObserved(std::chrono::microseconds(700), true);
  const std::string text = metrics.Render(*engine_);
  EXPECT_NE(text.find("wal_writes_total{namespace=\"orders\",durable=\"TRUE\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("wal_writes_total{namespace=\"orders\",durable=\"FALSE\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_writes_rejected_total{namespace=\"\",code=\"NOT_FOUND\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_write_latency_seconds_bucket{namespace=\"orders\",le=\"0.0025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_write_latency_seconds_count{namespace=\"orders\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("wal_log_fsync_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_namespace_pending{namespace=\"orders\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("wal_namespace_dead_letters{namespace=\"orders\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("wal_deliveries_total{namespace=\"orders\",result=\"delivered\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE wal_write_latency_seconds histogram\n"), std::string::npos);
}

}  // namespace
}  // namespace wal::server
