// A small Amazon SQS client: the AWS JSON 1.0 protocol over libcurl, signed
// with SigV4 (service "sqs"). Only the actions the WAL backend and its tests
// use are here.
//
// Every request is `POST /` to the endpoint with
//   Content-Type: application/x-amz-json-1.0
//   X-Amz-Target: AmazonSQS.<Action>
// and a JSON body naming the queue by URL. The endpoint is the configured
// override (e.g. ElasticMQ at http://127.0.0.1:9324) or
// https://sqs.<region>.amazonaws.com.
//
// Failure mapping (see docs/sqs.md):
//   throttling (ThrottlingException, RequestThrottled, HTTP 429), 5xx, network
//   errors -> kUnavailable; timeouts -> kDeadlineExceeded (both retryable);
//   bad/unknown key, bad signature, expired token -> kUnauthenticated;
//   AccessDenied -> kPermissionDenied; QueueDoesNotExist -> kNotFound naming the
//   queue; any other error response -> kInvalidArgument.
// `indeterminate` on a CallResult/SentMessage says the request may have been
// applied although no success was seen (a timeout or a connection lost after
// the request went out, or a 5xx other than 503): a send then has an unknown
// outcome rather than a failed one.
//
// Threading: SqsClient is thread-safe; it keeps a small pool of curl handles
// so concurrent calls reuse connections. Nothing logs secrets.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "common/status.h"
#include "queue/sqs/credentials.h"

namespace wal::queue::sqs {

struct SqsClientOptions {
  std::string region = "us-east-1";
  std::string endpoint;  // empty: https://sqs.<region>.amazonaws.com
  Credentials credentials;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{10000};  // long polls add their wait on top
};

struct CallResult {
  Status status;
  bool indeterminate = false;  // may have been applied though not confirmed
  nlohmann::json body;         // the parsed response when status is OK
};

// One message to send. Attributes go as DataType "String", except names ending
// in "-ms" (times in milliseconds), which go as "Number".
struct OutgoingMessage {
  std::string body;
  int delay_seconds = 0;  // 0..900
  std::vector<std::pair<std::string, std::string>> attributes;
};

struct SentMessage {
  Status status;
  bool indeterminate = false;
  std::string message_id;
};

struct ReceivedMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::map<std::string, std::string> attributes;  // message attributes (StringValue)
  uint32_t receive_count = 0;                      // ApproximateReceiveCount
  int64_t sent_timestamp_ms = 0;                   // SentTimestamp, 0 if absent
};

struct ReceiveOptions {
  int max_messages = 10;        // 1..10
  int wait_seconds = 0;         // 0..20 (long polling)
  int visibility_timeout = -1;  // seconds; < 0: the queue's default
  // When set, the call is abandoned (kUnavailable, "cancelled") soon after this
  // turns true: a long poll then does not hold up shutdown for its whole wait.
  const std::atomic<bool>* cancel = nullptr;
};

// The endpoint for `region` when no override is configured.
std::string DefaultEndpoint(std::string_view region);

// Request bodies (pure; tested without a server).
nlohmann::json BuildSendMessageRequest(const std::string& queue_url, const OutgoingMessage& message);
nlohmann::json BuildSendMessageBatchRequest(const std::string& queue_url, const std::vector<OutgoingMessage>& messages);
nlohmann::json BuildReceiveMessageRequest(const std::string& queue_url, const ReceiveOptions& options);

// Response parsing (pure). SendMessage responses must carry a MessageId and an
// MD5OfMessageBody equal to MD5(body sent); otherwise the outcome is an error
// (kInternal, indeterminate: SQS answered, but not for what we sent).
SentMessage ParseSendMessageResponse(const nlohmann::json& response, const OutgoingMessage& sent);
std::vector<SentMessage> ParseSendMessageBatchResponse(const nlohmann::json& response,
                                                       const std::vector<OutgoingMessage>& sent);
Result<std::vector<ReceivedMessage>> ParseReceiveMessageResponse(const nlohmann::json& response);
// One status per receipt sent (`count`), in order.
std::vector<Status> ParseDeleteMessageBatchResponse(const nlohmann::json& response, size_t count);
std::map<std::string, std::string> ParseGetQueueAttributesResponse(const nlohmann::json& response);
// None of the parsers throws, whatever the JSON; text they quote from a
// response into a Status message is made valid UTF-8 (U+FFFD).

// An HTTP error response as a CallResult (see the mapping above). `what` is
// the "SQS <Action> <queue>" prefix for the message.
CallResult ErrorFromResponse(long http_status, std::string_view body, std::string_view query_error_header,
                             std::string_view what);

class SqsClient {
 public:
  explicit SqsClient(SqsClientOptions options);
  ~SqsClient();
  SqsClient(const SqsClient&) = delete;
  SqsClient& operator=(const SqsClient&) = delete;

  // One action. `extra_timeout` is added to the request timeout (long polls).
  // A non-null `cancel` abandons the call within about a second of turning true.
  CallResult Call(std::string_view action, const nlohmann::json& request,
                  std::chrono::milliseconds extra_timeout = std::chrono::milliseconds(0),
                  const std::atomic<bool>* cancel = nullptr);

  Result<std::string> GetQueueUrl(const std::string& queue_name);
  Result<std::string> CreateQueue(const std::string& queue_name,
                                  const std::map<std::string, std::string>& attributes = {});
  SentMessage SendMessage(const std::string& queue_url, const OutgoingMessage& message);
  // Up to 10 messages; one result per message, in order.
  std::vector<SentMessage> SendMessageBatch(const std::string& queue_url, const std::vector<OutgoingMessage>& messages);
  Result<std::vector<ReceivedMessage>> ReceiveMessage(const std::string& queue_url, const ReceiveOptions& options);
  Status DeleteMessage(const std::string& queue_url, const std::string& receipt_handle);
  // Up to 10 receipt handles; one status per handle.
  Result<std::vector<Status>> DeleteMessageBatch(const std::string& queue_url, const std::vector<std::string>& receipts);
  Status ChangeMessageVisibility(const std::string& queue_url, const std::string& receipt_handle, int seconds);
  Result<std::map<std::string, std::string>> GetQueueAttributes(const std::string& queue_url,
                                                                 const std::vector<std::string>& names);
  Status PurgeQueue(const std::string& queue_url);

  const std::string& endpoint() const { return endpoint_; }
  const Credentials& credentials() const { return options_.credentials; }

 private:
  void* AcquireHandle();
  void ReleaseHandle(void* handle);

  SqsClientOptions options_;
  std::string endpoint_;  // scheme://host[:port], no trailing slash
  std::string host_;      // Host header value
  std::string path_;      // "/" or the endpoint's path
  std::mutex mutex_;
  std::vector<void*> idle_handles_;
};

}  // namespace wal::queue::sqs
