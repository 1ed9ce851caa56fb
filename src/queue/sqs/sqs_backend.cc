#include "queue/sqs/sqs_backend_impl.h"

#include <exception>

#include "queue/sqs/sigv4.h"

// The SQS backend itself: construction and Close, queue URLs, the message
// format (attributes, entry ids), the refused Read, and opening. The pieces
// are listed in sqs_backend_impl.h.

namespace wal::queue::sqs {

SqsBackend::SqsBackend(const config::NamespaceConfig& config, SqsBackendOptions options)
    : config_(config.backend.settings.Get<SqsBackendConfig>()),
      name_(config.name),
      dlq_name_(config_.dlq_queue.empty() ? config.dlq.name : config_.dlq_queue),
      options_(std::move(options)),
      client_(options_.client),
      hop_(std::clamp<seconds>(duration_cast<seconds>(config_.max_delay_hop), seconds(1), seconds(900))),
      per_poll_(std::clamp(config_.max_messages_per_poll, 1, 10)),
      poll_interval_(std::max(config_.poll_interval, milliseconds(0))),
      long_poll_seconds_(static_cast<int>(std::clamp<int64_t>(duration_cast<seconds>(poll_interval_).count(), 0, 20))),
      receiver_count_(std::clamp(config.consumer.concurrency, 1, 4)),
      capacity_(static_cast<size_t>(2 * per_poll_ * receiver_count_)) {
  for (int i = 0; i < std::clamp(options_.sender_threads, 1, 64); ++i) senders_.emplace_back([this] { SenderLoop(); });
  for (int i = 0; i < 2; ++i) workers_.emplace_back([this] { WorkerLoop(); });
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
}

Status SqsBackend::Close() {
  if (closed_.exchange(true)) return Status::Ok();
  {
    std::lock_guard lock(buffer_mutex_);
    space_cv_.notify_all();
    ready_cv_.notify_all();
  }
  {
    std::lock_guard lock(receivers_mutex_);
    for (auto& receiver : receivers_) {
      if (receiver.joinable()) receiver.join();
    }
  }
  ReleaseBuffered();
  {
    std::lock_guard lock(send_mutex_);
    closing_ = true;
    send_cv_.notify_all();
  }
  for (auto& sender : senders_) {
    if (sender.joinable()) sender.join();
  }
  {
    std::lock_guard lock(task_mutex_);
    tasks_closing_ = true;
    task_cv_.notify_all();
  }
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  {
    std::lock_guard lock(inflight_mutex_);
    heartbeat_stop_ = true;
    heartbeat_cv_.notify_all();
  }
  if (heartbeat_.joinable()) heartbeat_.join();
  return Status::Ok();
}

Result<std::vector<StoredEntry>> SqsBackend::Read(uint64_t, size_t) {
  return FailedPrecondition(
      "sqs backend: reading the main queue is not supported: every SQS receive, even a peek, raises the "
      "message's ApproximateReceiveCount, which is its attempt count; see the counts in the namespace stats");
}

uint64_t SqsBackend::ParseCount(const std::string& value) {
  try {
    return value.empty() ? 0 : std::stoull(value);
  } catch (const std::exception&) {
    return 0;
  }
}

OutgoingMessage SqsBackend::MakeMessage(const QueueEntry& entry, std::string body, TimePoint now_or_zero) const {
  OutgoingMessage message;
  message.body = std::move(body);
  TimePoint now = now_or_zero == TimePoint{} ? Clock::now() : now_or_zero;
  message.delay_seconds = FloorSeconds(duration_cast<milliseconds>(entry.due - now), hop_);
  message.attributes.emplace_back(kDueAttribute, std::to_string(std::max<int64_t>(0, ToMillis(entry.due))));
  if (!entry.ordering_key.empty()) {
    message.attributes.emplace_back(kOrderingKeyAttribute, Base64Encode(entry.ordering_key));
  }
  return message;
}

Delivery SqsBackend::ToDelivery(const ReceivedMessage& message) const {
  Delivery delivery;
  delivery.id = EntryIdForMessage(message.message_id);
  delivery.receipt = message.receipt_handle;
  delivery.receive_count = message.receive_count;
  auto record = Base64Decode(message.body);
  // A body that is not base64 was not written by us; hand it out as is.
  delivery.entry.record = record.ok() ? std::move(record).value() : message.body;
  if (auto it = message.attributes.find(kDueAttribute); it != message.attributes.end()) {
    delivery.entry.due = FromMillis(static_cast<int64_t>(ParseCount(it->second)));
  }
  if (auto it = message.attributes.find(kOrderingKeyAttribute); it != message.attributes.end()) {
    auto key = Base64Decode(it->second);
    delivery.entry.ordering_key = key.ok() ? std::move(key).value() : it->second;
  } else if (auto plain = message.attributes.find(kPlainOrderingKeyAttribute); plain != message.attributes.end()) {
    delivery.entry.ordering_key = plain->second;
  }
  return delivery;
}

Result<std::string> SqsBackend::ResolveUrl(const std::string& queue, std::string* cache) {
  {
    std::lock_guard lock(url_mutex_);
    if (!cache->empty()) return *cache;
  }
  if (queue.empty()) return FailedPrecondition("sqs backend: namespace " + name_ + " names no queue");
  std::string url;
  if (IsUrl(queue)) {
    url = queue;
  } else {
    auto resolved = client_.GetQueueUrl(queue);
    if (!resolved.ok()) return resolved.status();
    url = std::move(resolved).value();
  }
  std::lock_guard lock(url_mutex_);
  *cache = url;
  return url;
}

uint64_t EntryIdForMessage(std::string_view message_id) {
  std::string hex = Sha256Hex(message_id).substr(0, 16);
  return std::stoull(hex, nullptr, 16) & 0x7fffffffffffffffULL;
}

Result<std::unique_ptr<Backend>> OpenSqsBackendWithOptions(const config::NamespaceConfig& config,
                                                           SqsBackendOptions options) {
  const SqsBackendConfig& sqs = config.backend.settings.Get<SqsBackendConfig>();
  if (sqs.queue.empty()) {
    return InvalidArgument("namespace " + config.name + ": backend.sqs.queue: required for the sqs backend");
  }
  if (!sqs.region.empty()) options.client.region = sqs.region;
  if (options.client.endpoint.empty()) options.client.endpoint = sqs.endpoint;
  if (options.max_message_bytes == 0) options.max_message_bytes = kMaxSqsMessageBytes;
  if (options.in_flight_visibility < seconds(1)) options.in_flight_visibility = seconds(1);
  return std::unique_ptr<Backend>(new SqsBackend(config, std::move(options)));
}

Result<std::unique_ptr<Backend>> OpenSqsBackend(const BackendContext& /*context*/,
                                                const config::NamespaceConfig& config) {
  auto credentials = LoadCredentials(ProcessEnvironment());
  if (!credentials.ok()) return credentials.status().WithContext("namespace " + config.name + ": sqs backend");
  SqsBackendOptions options;
  const SqsBackendConfig& sqs = config.backend.settings.Get<SqsBackendConfig>();
  options.client.region = sqs.region;
  options.client.endpoint = sqs.endpoint;
  options.client.credentials = std::move(credentials).value();
  return OpenSqsBackendWithOptions(config, std::move(options));
}

}  // namespace wal::queue::sqs
