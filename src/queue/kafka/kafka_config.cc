#include "queue/kafka/kafka_config.h"

#include "config/duration.h"

namespace wal::queue::kafka {

std::string KafkaBackendConfig::DefaultConsumerGroup(std::string_view namespace_name) {
  return "wal-" + std::string(namespace_name);
}

Status KafkaBackendConfig::Read(config::ObjectReader& reader, const config::DecodeContext& context) {
  WAL_RETURN_IF_ERROR(reader.Field("bootstrap_servers", &bootstrap_servers));
  WAL_RETURN_IF_ERROR(reader.FieldWithAlias("topics", "wal-kafka-topics", &topics));
  WAL_RETURN_IF_ERROR(reader.FieldWithAlias("dlq_topics", "wal-kafka-dlq-topics", &dlq_topics));
  WAL_RETURN_IF_ERROR(reader.Field("consumer_group", &consumer_group));
  WAL_RETURN_IF_ERROR(reader.Field("delay_tiers", &delay_tiers));
  WAL_RETURN_IF_ERROR(reader.Field("properties", &properties));
  if (consumer_group.empty()) consumer_group = DefaultConsumerGroup(context.namespace_name);
  return Status::Ok();
}

Status KafkaBackendConfig::Validate(const std::string& path) const {
  WAL_RETURN_IF_ERROR(config::CheckRequired(path + ".bootstrap_servers", bootstrap_servers, "backend type 'kafka'"));
  std::string_view servers = bootstrap_servers;
  while (!servers.empty()) {
    size_t comma = servers.find(',');
    if (!config::CheckHostPort(path, servers.substr(0, comma)).ok()) {
      return config::FieldError(path + ".bootstrap_servers",
                                "must be host:port[,host:port...], got " + config::Quoted(bootstrap_servers));
    }
    servers = comma == std::string_view::npos ? std::string_view() : servers.substr(comma + 1);
  }
  if (topics.empty()) {
    return config::FieldError(path + ".topics", "at least one topic is required for backend type 'kafka'");
  }
  WAL_RETURN_IF_ERROR(config::CheckQueueNames(path + ".topics", topics));
  WAL_RETURN_IF_ERROR(config::CheckQueueNames(path + ".dlq_topics", dlq_topics));
  for (size_t i = 0; i < delay_tiers.size(); ++i) {
    const std::string tier = path + ".delay_tiers[" + std::to_string(i) + "]";
    WAL_RETURN_IF_ERROR(config::CheckPositive(tier, delay_tiers[i]));
    if (i > 0 && delay_tiers[i] <= delay_tiers[i - 1]) {
      return config::FieldError(tier, "tiers must be in increasing order, got " +
                                          config::FormatDuration(delay_tiers[i]) + " after " +
                                          config::FormatDuration(delay_tiers[i - 1]));
    }
  }
  return Status::Ok();
}

void KafkaBackendConfig::Write(config::Json& object) const {
  object["bootstrap_servers"] = bootstrap_servers;
  object["topics"] = topics;
  object["dlq_topics"] = dlq_topics;
  object["consumer_group"] = consumer_group;
  config::Json tiers = config::Json::array();
  for (config::Milliseconds tier : delay_tiers) tiers.push_back(config::FormatDuration(tier));
  object["delay_tiers"] = std::move(tiers);
  object["properties"] = config::Json::object();
  for (const auto& [key, value] : properties) object["properties"][key] = value;
}

}  // namespace wal::queue::kafka
