#include "queue/sqs/sqs_config.h"

#include "config/duration.h"

namespace wal::queue::sqs {
namespace {

constexpr int64_t kSecondMs = 1000;
constexpr int64_t kMinuteMs = 60 * kSecondMs;
constexpr int64_t kHourMs = 60 * kMinuteMs;

// The reference system writes `wal-queue: [name]`: accept a string or a
// one-element list.
Status ReadQueueName(config::ObjectReader& reader, std::string_view key, std::string_view alias, std::string* out) {
  const config::Json* value = nullptr;
  std::string path;
  WAL_RETURN_IF_ERROR(reader.TakeWithAlias(key, alias, &value, &path));
  if (value == nullptr) return Status::Ok();
  if (value->is_array()) {
    if (value->size() != 1) return config::FieldError(path, "must name exactly one queue, got " + config::Describe(*value));
    return config::Read((*value)[0], path + "[0]", out);
  }
  return config::Read(*value, path, out);
}

}  // namespace

Status SqsBackendConfig::Read(config::ObjectReader& reader, const config::DecodeContext& /*context*/) {
  WAL_RETURN_IF_ERROR(ReadQueueName(reader, "queue", "wal-queue", &queue));
  WAL_RETURN_IF_ERROR(ReadQueueName(reader, "dlq_queue", "wal-dlq-queue", &dlq_queue));
  WAL_RETURN_IF_ERROR(reader.Field("region", &region));
  WAL_RETURN_IF_ERROR(reader.Field("endpoint", &endpoint));

  // The reference alias counts whole seconds, so it cannot share the duration reader.
  const config::Json* interval = reader.Take("poll_interval");
  const config::Json* seconds = reader.Take("queue.poll-interval.secs");
  if (interval != nullptr && seconds != nullptr) {
    return config::FieldError(reader.PathOf("queue.poll-interval.secs"),
                              "is an alias of 'poll_interval' (in seconds); set only one of them");
  }
  if (interval != nullptr) WAL_RETURN_IF_ERROR(config::Read(*interval, reader.PathOf("poll_interval"), &poll_interval));
  if (seconds != nullptr) {
    int whole_seconds = 0;
    WAL_RETURN_IF_ERROR(config::Read(*seconds, reader.PathOf("queue.poll-interval.secs"), &whole_seconds));
    poll_interval = config::Milliseconds(int64_t{whole_seconds} * kSecondMs);
  }

  WAL_RETURN_IF_ERROR(
      reader.FieldWithAlias("max_messages_per_poll", "queue.max-messages-per-poll", &max_messages_per_poll));
  return reader.Field("max_delay_hop", &max_delay_hop);
}

Status SqsBackendConfig::Validate(const std::string& path) const {
  WAL_RETURN_IF_ERROR(config::CheckRequired(path + ".queue", queue, "backend type 'sqs'"));
  if (region.empty()) return config::FieldError(path + ".region", "must not be empty");
  if (!endpoint.empty() && !config::IsHttpUrl(endpoint)) {
    return config::FieldError(path + ".endpoint", "must start with http:// or https://, got " + config::Quoted(endpoint));
  }
  WAL_RETURN_IF_ERROR(config::CheckDurationRange(path + ".poll_interval", poll_interval, config::Milliseconds(0),
                                                 config::Milliseconds(kHourMs)));
  // SQS returns at most 10 messages per ReceiveMessage call.
  WAL_RETURN_IF_ERROR(config::CheckRange(path + ".max_messages_per_poll", max_messages_per_poll, 1, 10));
  // SQS caps DelaySeconds at 15 minutes; longer delays are made of hops.
  return config::CheckDurationRange(path + ".max_delay_hop", max_delay_hop, config::Milliseconds(kSecondMs),
                                    config::Milliseconds(15 * kMinuteMs));
}

void SqsBackendConfig::Write(config::Json& object) const {
  object["queue"] = queue;
  object["dlq_queue"] = dlq_queue;
  object["region"] = region;
  object["endpoint"] = endpoint;
  object["poll_interval"] = config::FormatDuration(poll_interval);
  object["max_messages_per_poll"] = max_messages_per_poll;
  object["max_delay_hop"] = config::FormatDuration(max_delay_hop);
}

}  // namespace wal::queue::sqs
