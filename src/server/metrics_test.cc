#include "server/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

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

TEST_F(MetricsTest, ExportsBuildInfoAndTheProcessSeries) {
  Open({});
  Metrics metrics;
  const std::string text = metrics.Render(*engine_);
  const std::string build_info = "# TYPE wal_build_info gauge\nwal_build_info{version=\"" WAL_VERSION "\"} 1\n";
  EXPECT_NE(text.find(build_info), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_open_fds gauge\nprocess_open_fds "), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds "), std::string::npos);
}

TEST_F(MetricsTest, CountsConfigRejectsBySource) {
  Open({});
  Metrics metrics;
  metrics.ConfigRejected(ConfigSource::kApply);
  metrics.ConfigRejected(ConfigSource::kStore);
  metrics.ConfigRejected(ConfigSource::kStore);
  const std::string text = metrics.Render(*engine_);
  EXPECT_NE(text.find("wal_config_rejects_total{source=\"apply\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("wal_config_rejects_total{source=\"store\"} 2\n"), std::string::npos);
}

TEST_F(MetricsTest, ExportsTargetErrorsByClassAndTheDeliveryLagHistogram) {
  Open({{"orders", "name: orders\n"}});
  auto runtime = engine_->Runtime("orders");
  ASSERT_TRUE(runtime.ok());
  engine::DeliveryCounters& counters = (*runtime)->counters();
  counters.CountFailure(target::ApplyResult::Permanent("no such table"), false);
  counters.CountFailure(target::ApplyResult::Retryable("connection refused"), false);
  counters.CountFailure(target::ApplyResult::Retryable("target unavailable"), true);
  counters.delivery_lag_seconds.Observe(12);
  Metrics metrics;
  const std::string text = metrics.Render(*engine_);
  EXPECT_NE(text.find("wal_target_errors_total{namespace=\"orders\",class=\"retryable\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("wal_target_errors_total{namespace=\"orders\",class=\"permanent\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_target_errors_total{namespace=\"orders\",class=\"target_unavailable\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("wal_deliveries_total{namespace=\"orders\",result=\"failed\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE wal_delivery_lag_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("wal_delivery_lag_seconds_bucket{namespace=\"orders\",le=\"10\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("wal_delivery_lag_seconds_bucket{namespace=\"orders\",le=\"30\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_delivery_lag_seconds_count{namespace=\"orders\"} 1\n"), std::string::npos);
}

TEST_F(MetricsTest, TheSeriesOfADeletedNamespaceDisappear) {
  Open({{"orders", "name: orders\n"}, {"payments", "name: payments\n"}});
  Metrics metrics;
  metrics.WriteAnswered("orders", v1::TRUE, std::chrono::milliseconds(2));
  metrics.WriteRejected("orders", StatusCode::kInvalidArgument);
  metrics.WriteAnswered("payments", v1::TRUE, std::chrono::milliseconds(2));
  metrics.WriteRejected("", StatusCode::kNotFound);
  ASSERT_NE(metrics.Render(*engine_).find("namespace=\"orders\""), std::string::npos);

  const config::NamespaceConfig orders = engine_->GetNamespace("orders").value();
  ASSERT_TRUE(engine_->DeleteNamespace("orders", true).ok());
  const std::string text = metrics.Render(*engine_);
  EXPECT_EQ(text.find("namespace=\"orders\""), std::string::npos) << text;
  EXPECT_NE(text.find("wal_writes_total{namespace=\"payments\",durable=\"TRUE\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("wal_writes_rejected_total{namespace=\"\",code=\"NOT_FOUND\"} 1\n"), std::string::npos)
      << "refusals of names not served here are not any namespace's series";

  // Created again, it starts from nothing (a counter reset to Prometheus).
  ASSERT_TRUE(engine_->ApplyNamespace(orders).ok());
  metrics.WriteAnswered("orders", v1::TRUE, std::chrono::milliseconds(2));
  EXPECT_NE(metrics.Render(*engine_).find("wal_writes_total{namespace=\"orders\",durable=\"TRUE\"} 1\n"),
            std::string::npos);
}

// What promlint checks of names: counters end in _total, histograms and
// gauges do not, and every family has HELP and TYPE before its samples.
TEST_F(MetricsTest, EveryFamilyIsDeclaredAndNamedByPrometheusConventions) {
  Open({{"orders", "name: orders\n"}});
  Metrics metrics;
  metrics.WriteAnswered("orders", v1::TRUE, std::chrono::milliseconds(2));
  std::istringstream lines(metrics.Render(*engine_));
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first, name, type;
    words >> first;
    if (first == "#") {
      std::string kind;
      words >> kind >> name;
      if (kind == "HELP") helped.insert(name);
      if (kind == "TYPE") {
        words >> type;
        EXPECT_EQ(types.count(name), 0u) << name << " is declared twice";
        types[name] = type;
        EXPECT_EQ(helped.count(name), 1u) << name << " has no HELP";
        EXPECT_EQ(name.ends_with("_total"), type == "counter") << name << " is a " << type;
      }
      continue;
    }
    const std::string sample = first.substr(0, first.find('{'));
    std::string family = sample;
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (types.count(family) == 0 && sample.ends_with(suffix)) family = sample.substr(0, sample.size() - suffix.size());
    }
    EXPECT_EQ(types.count(family), 1u) << sample << " has no TYPE before it";
  }
  EXPECT_GE(types.size(), 20u);
}

}  // namespace
}  // namespace wal::server
