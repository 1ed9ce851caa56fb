#include "target/kafka/kafka_target.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>

#include "target/mutation_util.h"
#include "target/target_settings.h"

namespace wal::target {
namespace {

// What one produce came to, filled in by the delivery-report callback.
struct Waiter {
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  bool maybe_stored = false;  // failed, but the broker may have it
};

void DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* holder = static_cast<std::shared_ptr<Waiter>*>(message->_private);
  if (holder == nullptr) return;
  std::shared_ptr<Waiter> waiter = std::move(*holder);
  delete holder;
  {
    std::lock_guard lock(waiter->mutex);
    waiter->done = true;
    waiter->error = message->err;
    waiter->maybe_stored = rd_kafka_message_status(message) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
  }
  waiter->done_cv.notify_all();
}

void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // Broker connection failures arrive at level 3; the apply reports them as
  // retryable, so they are warnings here.
  if (level <= 4) {
    spdlog::warn("kafka target {}: {}: {}", rd_kafka_name(rk), facility, message);
  } else {
    spdlog::debug("kafka target {}: {}: {}", rd_kafka_name(rk), facility, message);
  }
}

}  // namespace

Result<std::unique_ptr<KafkaTarget>> KafkaTarget::FromSettings(std::string_view settings_json) {
  return CreateFromSettingsJson<KafkaTarget, KafkaTargetConfig>(settings_json);
}

TargetModule KafkaTarget::Module() {
  return TargetModuleOf<KafkaTargetConfig>([](const KafkaTargetConfig& settings, const TargetEnvironment&) {
    return Create(settings);
  });
}

Result<std::unique_ptr<KafkaTarget>> KafkaTarget::Create(Options options) {
  std::unique_ptr<KafkaTarget> target(new KafkaTarget(std::move(options)));
  WAL_RETURN_IF_ERROR(target->StartProducer());
  target->poller_ = std::thread([raw = target.get()] { raw->PollLoop(); });
  return target;
}

KafkaTarget::KafkaTarget(Options options)
    : options_(std::move(options)), permanent_errors_(options_.permanent_errors.begin(), options_.permanent_errors.end()) {}

KafkaTarget::~KafkaTarget() {
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  std::unique_lock lock(producer_mutex_);
  if (producer_ != nullptr) {
    // Every waiter has returned (the target is being destroyed), but reports
    // may still come: let them, bounded, then drop the rest.
    if (rd_kafka_flush(producer_, static_cast<int>(options_.timeout.count()) + 1000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      (void)rd_kafka_flush(producer_, 500);
    }
    rd_kafka_destroy(producer_);
    producer_ = nullptr;
  }
}

// Called with producer_mutex_ held exclusively (or before the poller starts).
Status KafkaTarget::StartProducer() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  std::map<std::string, std::string> properties = {
      {"client.id", "wal-kafka-target"},
      {"linger.ms", "1"},
  };
  for (const auto& [key, value] : options_.properties) properties[key] = value;
  properties["bootstrap.servers"] = options_.bootstrap_servers;
  properties["acks"] = "all";
  properties["enable.idempotence"] = "true";
  properties["message.timeout.ms"] = std::to_string(options_.timeout.count());
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return SettingError("properties." + key, error);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &DeliveryReport);
  rd_kafka_conf_set_log_cb(conf, &LogCallback);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (producer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return SettingError("properties", std::string("kafka producer: ") + error);
  }
  producer_ = producer;
  fatal_ = false;
  return Status::Ok();
}

void KafkaTarget::PollLoop() {
  while (!stop_.load()) {
    std::shared_lock lock(producer_mutex_);
    if (producer_ != nullptr) {
      rd_kafka_poll(producer_, 50);
    }
  }
}

ApplyOutcome KafkaTarget::Classify(int error_code) const {
  const auto error = static_cast<rd_kafka_resp_err_t>(error_code);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return ApplyOutcome::kOk;
  return permanent_errors_.count(rd_kafka_err2name(error)) ? ApplyOutcome::kPermanent
                                                                   : ApplyOutcome::kRetryable;
}

ApplyResult KafkaTarget::Produce(std::string_view key, const std::string* value, std::string_view op,
                                 const DeliveryContext& context) {
  if (fatal_.load()) {
    // The idempotent producer cannot go on after a fatal error: start a new one.
    std::unique_lock lock(producer_mutex_);
    if (fatal_.load()) {
      rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      (void)rd_kafka_flush(producer_, 1000);
      rd_kafka_destroy(producer_);
      producer_ = nullptr;
      if (Status started = StartProducer(); !started.ok()) {
        return ApplyResult::Retryable("kafka target: restarting the producer: " + started.message());
      }
    }
  }
  auto waiter = std::make_shared<Waiter>();
  rd_kafka_headers_t* headers = rd_kafka_headers_new(6);
  auto add = [headers](const char* name, std::string_view text) {
    rd_kafka_header_add(headers, name, -1, text.data(), static_cast<ssize_t>(text.size()));
  };
  add("wal-namespace", context.namespace_name);
  add("wal-entry-id", std::to_string(context.entry_id));
  add("wal-attempt", std::to_string(context.attempt));
  add("wal-op", op);
  if (!context.idempotency_key.empty()) add("wal-idempotency-key", context.idempotency_key);
  if (!context.origin_region.empty()) add("wal-origin-region", context.origin_region);

  auto* holder = new std::shared_ptr<Waiter>(waiter);
  void* value_data = value == nullptr ? nullptr : const_cast<char*>(value->data());
  const size_t value_size = value == nullptr ? 0 : value->size();
  void* key_data = key.empty() ? nullptr : const_cast<char*>(key.data());
  rd_kafka_resp_err_t error;
  {
    std::shared_lock lock(producer_mutex_);
    error = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(options_.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(value_data, value_size), RD_KAFKA_V_KEY(key_data, key.size()), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(holder), RD_KAFKA_V_END);
  }
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(headers);
    delete holder;
    if (error == RD_KAFKA_RESP_ERR__FATAL) fatal_ = true;
    std::string reason = "kafka produce to " + options_.topic + " refused: " + rd_kafka_err2name(error) + ": " +
                         rd_kafka_err2str(error);
    return Classify(error) == ApplyOutcome::kPermanent ? ApplyResult::Permanent(std::move(reason))
                                                       : ApplyResult::Retryable(std::move(reason));
  }
  std::unique_lock lock(waiter->mutex);
  if (!waiter->done_cv.wait_for(lock, options_.timeout + std::chrono::seconds(1), [&] { return waiter->done; })) {
    // librdkafka reports every message by message.timeout.ms; this is a backstop.
    return ApplyResult::Retryable("kafka delivery to " + options_.topic + ": no delivery report within " +
                                  std::to_string(options_.timeout.count()) + " ms");
  }
  if (waiter->error == RD_KAFKA_RESP_ERR_NO_ERROR) return ApplyResult::Ok();
  if (waiter->error == RD_KAFKA_RESP_ERR__FATAL) fatal_ = true;
  {
    std::shared_lock producer_lock(producer_mutex_);
    char buffer[256];
    if (producer_ != nullptr && rd_kafka_fatal_error(producer_, buffer, sizeof(buffer)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fatal_ = true;
    }
  }
  std::string reason = "kafka delivery to " + options_.topic + ": " + rd_kafka_err2name(waiter->error) + ": " +
                       rd_kafka_err2str(waiter->error) + (waiter->maybe_stored ? " (may be stored)" : "");
  return Classify(waiter->error) == ApplyOutcome::kPermanent ? ApplyResult::Permanent(std::move(reason))
                                                             : ApplyResult::Retryable(std::move(reason));
}

ApplyResult KafkaTarget::ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) {
  if (Status valid = ValidateMutationBasics(mutation, "mutation"); !valid.ok()) {
    return ApplyResult::Permanent(valid.message());
  }
  const std::string key = CacheKey("", mutation);
  const bool is_put = mutation.op() == v1::Mutation::PUT;
  if (options_.encoding == Encoding::kValue) {
    return Produce(key, is_put ? &mutation.value() : nullptr, OperationName(mutation.op()), context);
  }
  const std::string value = mutation.SerializeAsString();
  return Produce(key, &value, OperationName(mutation.op()), context);
}

ApplyResult KafkaTarget::DeliverOpaque(std::string_view payload, const DeliveryContext& context) {
  const std::string value(payload);
  return Produce(context.idempotency_key, &value, "OPAQUE", context);
}

Status KafkaTarget::ValidatePayload(const v1::Payload& payload) const {
  auto too_large = [this](const std::string& field, uint64_t bytes) {
    return InvalidArgument(field + ": " + std::to_string(bytes) + " bytes is more than the kafka target's " +
                           "max_message_bytes (" + std::to_string(options_.max_message_bytes) + ")");
  };
  return ForEachMutation(
      payload,
      [&](const v1::Mutation& mutation, const std::string& field) -> Status {
        WAL_RETURN_IF_ERROR(ValidateMutationBasics(mutation, field));
        const uint64_t value_bytes =
            options_.encoding == Encoding::kValue ? mutation.value().size() : mutation.ByteSizeLong();
        const uint64_t bytes = CacheKey("", mutation).size() + value_bytes;
        if (bytes > options_.max_message_bytes) return too_large(field, bytes);
        return Status::Ok();
      },
      [&]() -> Status {
        if (payload.opaque().size() > options_.max_message_bytes) return too_large("payload.opaque", payload.opaque().size());
        return Status::Ok();
      });
}

Status KafkaTarget::Probe() {
  std::shared_lock lock(producer_mutex_);
  rd_kafka_topic_t* topic = rd_kafka_topic_new(producer_, options_.topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  const int timeout_ms = static_cast<int>(std::min<int64_t>(options_.timeout.count(), 5000));
  rd_kafka_resp_err_t error = rd_kafka_metadata(producer_, 0, topic, &metadata, timeout_ms);
  rd_kafka_topic_destroy(topic);
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable("kafka target " + options_.bootstrap_servers + ": metadata: " + rd_kafka_err2str(error));
  }
  rd_kafka_resp_err_t topic_error =
      metadata->topic_cnt == 1 ? metadata->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  rd_kafka_metadata_destroy(metadata);
  if (topic_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable("kafka target topic " + options_.topic + ": " + rd_kafka_err2str(topic_error));
  }
  return Status::Ok();
}

}  // namespace wal::target
