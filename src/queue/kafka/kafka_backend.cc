#include "queue/kafka/kafka_backend_impl.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

// The Kafka backend itself: the librdkafka configuration shared by its
// clients, Open, Close, and OpenKafkaBackend. The pieces are listed in
// kafka_backend_impl.h.

namespace wal::queue::kafka {

std::string HeaderValue(const rd_kafka_message_t* m, const char* name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR || headers == nullptr) return "";
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR || value == nullptr) return "";
  return std::string(static_cast<const char*>(value), size);
}

Result<rd_kafka_conf_t*> MakeConf(const std::map<std::string, std::string>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument("backend.kafka.properties." + key + ": " + error);
    }
  }
  return conf;
}

void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // Shared properties land on both clients; librdkafka warns about the half
  // that does not apply.
  if (std::strcmp(facility, "CONFWARN") == 0) level = 7;
  if (level <= 3) {
    spdlog::error("kafka {}: {}: {}", rd_kafka_name(rk), facility, message);
  } else if (level == 4) {
    spdlog::warn("kafka {}: {}: {}", rd_kafka_name(rk), facility, message);
  } else {
    spdlog::debug("kafka {}: {}: {}", rd_kafka_name(rk), facility, message);
  }
}

Status KafkaBackend::Open() {
  WAL_RETURN_IF_ERROR(markers_.Load());
  WAL_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(settings_.producer_properties));
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaBackend::DeliveryReport);
  rd_kafka_conf_set_error_cb(conf, &KafkaBackend::ErrorCallback);
  rd_kafka_conf_set_log_cb(conf, &LogCallback);
  char error[512];
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (producer_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument(std::string("kafka producer: ") + error);
  }
  // One quick attempt so a reachable broker has the topics before Open returns;
  // otherwise the producer thread keeps trying.
  Status topics = EnsureTopics(std::chrono::milliseconds(5000));
  if (!topics.ok()) {
    spdlog::warn("namespace {}: kafka topics not ready yet (retrying in the background): {}", settings_.name,
                 topics.ToString());
  }
  producer_thread_ = std::thread([this] { ProducerLoop(); });
  return Status::Ok();
}

Status KafkaBackend::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
  }
  cv_.notify_all();
  {
    std::unique_lock lock(producer_mu_);  // no Produce after this
    producer_closed_ = true;
  }
  if (producer_ != nullptr) {
    // Every outstanding produce reports (TRUE/FALSE/UNKNOWN) before Close
    // returns: those the broker has not acknowledged within the bound are
    // purged and answered UNKNOWN, so a broker outage cannot stall shutdown.
    const int flush_ms = static_cast<int>(
        brokers_down_.load() ? kCloseLimitBrokersDownMs
                             : std::min<int64_t>(settings_.message_timeout.count() + 2000, kCloseLimitMs));
    if (rd_kafka_flush(producer_, flush_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      (void)rd_kafka_flush(producer_, 1000);
    }
  }
  stop_consumer_ = true;
  if (consumer_thread_.joinable()) consumer_thread_.join();
  stop_producer_ = true;
  if (producer_thread_.joinable()) producer_thread_.join();
  if (producer_ != nullptr) {
    rd_kafka_poll(producer_, 0);
    rd_kafka_destroy(producer_);
    producer_ = nullptr;
  }
  return Status::Ok();
}

bool KafkaBackend::closed_flag() {
  std::lock_guard lock(mu_);
  return closed_;
}

Result<std::unique_ptr<Backend>> OpenKafkaBackend(const BackendContext& context, const config::NamespaceConfig& config) {
  if (context.file_system == nullptr) return InvalidArgument("BackendContext.file_system is null");
  Result<KafkaSettings> settings = ResolveKafkaSettings(config, context.region, context.regional_delivery);
  if (!settings.ok()) return settings.status().WithContext("namespace " + config.name);
  auto backend = std::make_unique<KafkaBackend>(context, std::move(settings).value());
  WAL_RETURN_IF_ERROR(backend->Open().WithContext("namespace " + config.name));
  if (!context.region.empty() && context.regional_delivery) {
    spdlog::info("namespace {}: replication consumer for region {} (kafka group {})", config.name, context.region,
                 backend->consumer_group());
  }
  return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace wal::queue::kafka
