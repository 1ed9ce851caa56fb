#include "target/kafka/kafka_config.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "config/duration.h"

namespace wal::target {
namespace {

constexpr config::EnumName<KafkaTargetConfig::Encoding> kEncodings[] = {
    {"mutation", KafkaTargetConfig::Encoding::kMutation}, {"value", KafkaTargetConfig::Encoding::kValue}};

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool IsKnownErrorName(const std::string& name) {
  const rd_kafka_err_desc* descriptions = nullptr;
  size_t count = 0;
  rd_kafka_get_err_descs(&descriptions, &count);
  for (size_t i = 0; i < count; ++i) {
    if (descriptions[i].name != nullptr && name == descriptions[i].name) return true;
  }
  return false;
}

// The properties the target itself sets, or that would void its promises.
std::string PropertyRule(const std::string& key, const std::string& value) {
  const std::string v = Lower(value);
  if ((key == "acks" || key == "request.required.acks") && v != "all" && v != "-1") {
    return "must be 'all': ok means every in-sync replica has it";
  }
  if (key == "enable.idempotence" && v != "true") return "must stay true: retries must not duplicate or reorder";
  if (key == "bootstrap.servers" || key == "metadata.broker.list") return "set target.bootstrap_servers instead";
  if (key == "message.timeout.ms" || key == "delivery.timeout.ms") return "set target.timeout instead";
  return "";
}

}  // namespace

std::vector<std::string> KafkaTargetConfig::DefaultPermanentErrors() {
  // Too large, no such topic, not allowed, malformed. Timeouts, transport
  // errors, leader changes, NOT_ENOUGH_REPLICAS and throttling are retryable.
  // (librdkafka reports a record too large to produce as MSG_SIZE_TOO_LARGE
  // too; it has no local "_MSG_SIZE_TOO_LARGE".)
  std::vector<std::string> names = {
      "MSG_SIZE_TOO_LARGE", "RECORD_LIST_TOO_LARGE",      "INVALID_MSG_SIZE",           "INVALID_MSG",
      "INVALID_RECORD",     "UNKNOWN_TOPIC_OR_PART",      "_UNKNOWN_TOPIC",             "_UNKNOWN_PARTITION",
      "TOPIC_EXCEPTION",    "TOPIC_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED", "_INVALID_ARG"};
  std::sort(names.begin(), names.end());
  return names;
}

Status KafkaTargetConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(reader.NonEmptyField("bootstrap_servers", &bootstrap_servers));
  WAL_RETURN_IF_ERROR(reader.NonEmptyField("topic", &topic));
  WAL_RETURN_IF_ERROR(reader.Field("timeout", &timeout));
  if (const config::Json* value = reader.Take("encoding")) {
    WAL_RETURN_IF_ERROR(config::ReadEnum(*value, reader.PathOf("encoding"), kEncodings, &encoding));
  }
  WAL_RETURN_IF_ERROR(reader.Field("properties", &properties));
  WAL_RETURN_IF_ERROR(reader.Field("permanent_errors", &permanent_errors));
  return reader.Field("max_message_bytes", &max_message_bytes);
}

Status KafkaTargetConfig::Validate(const std::string& path) const {
  WAL_RETURN_IF_ERROR(config::CheckRequired(path + ".bootstrap_servers", bootstrap_servers, "target type 'kafka'"));
  WAL_RETURN_IF_ERROR(config::CheckRequired(path + ".topic", topic, "target type 'kafka'"));
  WAL_RETURN_IF_ERROR(config::CheckPositive(path + ".timeout", timeout));
  // librdkafka itself says whether a property exists and takes the value, so
  // a misspelt property is refused here rather than when the target is built.
  std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> conf(rd_kafka_conf_new(), &rd_kafka_conf_destroy);
  for (const auto& [key, value] : properties) {
    if (std::string rule = PropertyRule(key, value); !rule.empty()) {
      return config::FieldError(path + ".properties." + key, rule);
    }
    char error[512];
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
      return config::FieldError(path + ".properties." + key, error);
    }
  }
  for (size_t i = 0; i < permanent_errors.size(); ++i) {
    if (!IsKnownErrorName(permanent_errors[i])) {
      return config::FieldError(path + ".permanent_errors[" + std::to_string(i) + "]",
                                "unknown librdkafka error name " + config::Quoted(permanent_errors[i]) +
                                    " (e.g. MSG_SIZE_TOO_LARGE, _UNKNOWN_TOPIC)");
    }
  }
  return config::CheckRange<uint64_t>(path + ".max_message_bytes", max_message_bytes, 1, uint64_t{1} << 30);
}

void KafkaTargetConfig::Write(config::Json& object) const {
  object["bootstrap_servers"] = bootstrap_servers;
  object["topic"] = topic;
  object["timeout"] = config::FormatDuration(timeout);
  object["encoding"] = config::EnumNameOf(encoding, kEncodings);
  object["properties"] = config::Json::object();
  for (const auto& [key, value] : properties) object["properties"][key] = value;
  object["permanent_errors"] = permanent_errors;
  object["max_message_bytes"] = max_message_bytes;
}

}  // namespace wal::target
