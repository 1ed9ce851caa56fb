#include "queue/sqs/sqs_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <exception>

#include "common/utf8.h"
#include "queue/sqs/sigv4.h"

namespace wal::queue::sqs {
namespace {

using json = nlohmann::json;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string QueueOf(const json& request) {
  try {
    if (request.contains("QueueUrl") && request["QueueUrl"].is_string()) {
      std::string url = request["QueueUrl"].get<std::string>();
      size_t slash = url.find_last_of('/');
      return slash == std::string::npos ? url : url.substr(slash + 1);
    }
    if (request.contains("QueueName") && request["QueueName"].is_string()) return request["QueueName"];
  } catch (const std::exception&) {
  }
  return "";
}

std::string StringField(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// Response text quoted in a Status message: it ends up in protobuf string
// fields (NamespaceStatus.error) and JSON, which must be UTF-8.
std::string Quote(std::string_view text) { return SanitizeUtf8(text); }

// A whole decimal number of type T, or nullopt ("-1", "1e3", "" and overflow are not).
template <typename T>
std::optional<T> ParseNumber(std::string_view text) {
  T value{};
  auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// The index a batch entry's Id names (we send "0".."n-1"), or nullopt.
std::optional<size_t> EntryIndex(const json& entry, size_t count) {
  if (!entry.is_object()) return std::nullopt;
  std::optional<size_t> index = ParseNumber<size_t>(StringField(entry, "Id"));
  if (!index || *index >= count) return std::nullopt;
  return index;
}

json AttributesJson(const std::vector<std::pair<std::string, std::string>>& attributes) {
  json out = json::object();
  for (const auto& [name, value] : attributes) {
    if (value.empty()) continue;  // SQS refuses empty attribute values
    out[name] = {{"DataType", EndsWith(name, "-ms") ? "Number" : "String"}, {"StringValue", value}};
  }
  return out;
}

// curl's progress callback: a non-zero return aborts the transfer.
int AbortWhenCancelled(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "x-amzn-query-error:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == kName) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      *static_cast<std::string*>(user) = std::string(value);
    }
  }
  return size * count;
}

}  // namespace

std::string DefaultEndpoint(std::string_view region) { return "https://sqs." + std::string(region) + ".amazonaws.com"; }

// ---- base64 ------------------------------------------------------------------

// ---- request building and response parsing -------------------------------------

json BuildSendMessageRequest(const std::string& queue_url, const OutgoingMessage& message) {
  json request = {{"QueueUrl", queue_url}, {"MessageBody", message.body}, {"DelaySeconds", message.delay_seconds}};
  json attributes = AttributesJson(message.attributes);
  if (!attributes.empty()) request["MessageAttributes"] = std::move(attributes);
  return request;
}

json BuildSendMessageBatchRequest(const std::string& queue_url, const std::vector<OutgoingMessage>& messages) {
  json entries = json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    json entry = {{"Id", std::to_string(i)}, {"MessageBody", messages[i].body},
                  {"DelaySeconds", messages[i].delay_seconds}};
    json attributes = AttributesJson(messages[i].attributes);
    if (!attributes.empty()) entry["MessageAttributes"] = std::move(attributes);
    entries.push_back(std::move(entry));
  }
  return {{"QueueUrl", queue_url}, {"Entries", std::move(entries)}};
}

json BuildReceiveMessageRequest(const std::string& queue_url, const ReceiveOptions& options) {
  json request = {{"QueueUrl", queue_url},
                  {"MaxNumberOfMessages", std::clamp(options.max_messages, 1, 10)},
                  {"WaitTimeSeconds", std::clamp(options.wait_seconds, 0, 20)},
                  {"MessageAttributeNames", json::array({"All"})},
                  // Current name, and the older one servers like ElasticMQ still read.
                  {"MessageSystemAttributeNames", json::array({"ApproximateReceiveCount", "SentTimestamp"})},
                  {"AttributeNames", json::array({"ApproximateReceiveCount", "SentTimestamp"})}};
  if (options.visibility_timeout >= 0) request["VisibilityTimeout"] = options.visibility_timeout;
  return request;
}

SentMessage ParseSendMessageResponse(const json& response, const OutgoingMessage& sent) {
  SentMessage result;
  if (!response.is_object()) {
    result.status = Internal("SQS SendMessage: response is not a JSON object");
    result.indeterminate = true;
    return result;
  }
  result.message_id = StringField(response, "MessageId");
  std::string md5 = StringField(response, "MD5OfMessageBody");
  std::string expected = Md5Hex(sent.body);
  if (result.message_id.empty()) {
    result.status = Internal("SQS SendMessage: response has no MessageId");
    result.indeterminate = true;
  } else if (md5 != expected) {
    result.status = Internal("SQS SendMessage: MD5OfMessageBody mismatch for message " + Quote(result.message_id) +
                             ": expected " + expected + ", got '" + Quote(md5) + "' (body corrupted in transit?)");
    result.indeterminate = true;
  }
  return result;
}

std::vector<SentMessage> ParseSendMessageBatchResponse(const json& response, const std::vector<OutgoingMessage>& sent) {
  std::vector<SentMessage> results(sent.size());
  for (auto& result : results) {
    result.status = Internal("SQS SendMessageBatch: entry missing from the response");
    result.indeterminate = true;
  }
  if (!response.is_object()) return results;
  if (auto it = response.find("Successful"); it != response.end() && it->is_array()) {
    for (const json& entry : *it) {
      if (auto index = EntryIndex(entry, sent.size())) results[*index] = ParseSendMessageResponse(entry, sent[*index]);
    }
  }
  if (auto it = response.find("Failed"); it != response.end() && it->is_array()) {
    for (const json& entry : *it) {
      auto index = EntryIndex(entry, sent.size());
      if (!index) continue;
      auto fault = entry.find("SenderFault");
      const bool sender_fault = fault == entry.end() || !fault->is_boolean() || fault->get<bool>();
      std::string message = "SQS SendMessageBatch: entry refused: " + Quote(StringField(entry, "Code")) + ": " +
                            Quote(StringField(entry, "Message"));
      SentMessage& result = results[*index];
      result.indeterminate = false;
      result.message_id.clear();
      result.status = sender_fault ? InvalidArgument(message) : Unavailable(message);
    }
  }
  return results;
}

std::vector<Status> ParseDeleteMessageBatchResponse(const json& response, size_t count) {
  std::vector<Status> statuses(count, Internal("SQS DeleteMessageBatch: entry missing from the response"));
  if (!response.is_object()) return statuses;
  if (auto it = response.find("Successful"); it != response.end() && it->is_array()) {
    for (const json& entry : *it) {
      if (auto index = EntryIndex(entry, count)) statuses[*index] = Status::Ok();
    }
  }
  if (auto it = response.find("Failed"); it != response.end() && it->is_array()) {
    for (const json& entry : *it) {
      if (auto index = EntryIndex(entry, count)) {
        statuses[*index] = InvalidArgument("SQS DeleteMessageBatch: " + Quote(StringField(entry, "Code")) + ": " +
                                           Quote(StringField(entry, "Message")));
      }
    }
  }
  return statuses;
}

std::map<std::string, std::string> ParseGetQueueAttributesResponse(const json& response) {
  std::map<std::string, std::string> attributes;
  if (!response.is_object()) return attributes;
  if (auto it = response.find("Attributes"); it != response.end() && it->is_object()) {
    for (const auto& [name, value] : it->items()) {
      if (value.is_string()) attributes[name] = value.get<std::string>();
    }
  }
  return attributes;
}

Result<std::vector<ReceivedMessage>> ParseReceiveMessageResponse(const json& response) {
  std::vector<ReceivedMessage> messages;
  if (!response.is_object()) return Internal("SQS ReceiveMessage: the response is not a JSON object");
  auto it = response.find("Messages");
  if (it == response.end() || it->is_null()) return messages;
  if (!it->is_array()) return Internal("SQS ReceiveMessage: Messages is not an array");
  for (const json& entry : *it) {
    if (!entry.is_object()) return Internal("SQS ReceiveMessage: a message is not a JSON object");
    ReceivedMessage message;
    message.message_id = StringField(entry, "MessageId");
    message.receipt_handle = StringField(entry, "ReceiptHandle");
    message.body = StringField(entry, "Body");
    if (message.message_id.empty() || message.receipt_handle.empty()) {
      return Internal("SQS ReceiveMessage: a message lacks MessageId or ReceiptHandle");
    }
    std::string md5 = StringField(entry, "MD5OfBody");
    if (!md5.empty() && md5 != Md5Hex(message.body)) {
      return Internal("SQS ReceiveMessage: MD5OfBody mismatch for message " + Quote(message.message_id));
    }
    if (auto attrs = entry.find("Attributes"); attrs != entry.end() && attrs->is_object()) {
      if (std::string count = StringField(*attrs, "ApproximateReceiveCount"); !count.empty()) {
        std::optional<uint32_t> parsed = ParseNumber<uint32_t>(count);
        if (!parsed) {
          return Internal("SQS ReceiveMessage: ApproximateReceiveCount of message " + Quote(message.message_id) +
                          " is not a count: '" + Quote(count) + "'");
        }
        message.receive_count = *parsed;
      }
      if (std::string sent = StringField(*attrs, "SentTimestamp"); !sent.empty()) {
        std::optional<int64_t> parsed = ParseNumber<int64_t>(sent);
        if (!parsed) {
          return Internal("SQS ReceiveMessage: SentTimestamp of message " + Quote(message.message_id) +
                          " is not milliseconds: '" + Quote(sent) + "'");
        }
        message.sent_timestamp_ms = *parsed;
      }
    }
    if (auto attrs = entry.find("MessageAttributes"); attrs != entry.end() && attrs->is_object()) {
      for (const auto& [name, value] : attrs->items()) {
        if (value.is_object()) message.attributes[name] = StringField(value, "StringValue");
      }
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

CallResult ErrorFromResponse(long http_status, std::string_view body, std::string_view query_error_header,
                             std::string_view what) {
  std::string code;
  std::string message;
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    code = StringField(parsed, "__type");
    message = StringField(parsed, "message");
    if (message.empty()) message = StringField(parsed, "Message");
  }
  if (size_t hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
  std::string query_code(query_error_header.substr(0, query_error_header.find(';')));
  if (code.empty()) code = query_code;
  if (message.empty()) message = std::string(body.substr(0, 200));
  auto is = [&](std::initializer_list<std::string_view> names) {
    return std::any_of(names.begin(), names.end(), [&](std::string_view name) { return code == name || query_code == name; });
  };
  std::string text = std::string(what) + ": " + Quote(code.empty() ? "error" : code) + ": " + Quote(message) +
                     " (HTTP " + std::to_string(http_status) + ")";
  CallResult result;
  if (is({"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "NonExistentQueue"})) {
    result.status = NotFound(text);
  } else if (is({"ThrottlingException", "RequestThrottled", "RequestThrottledException", "RequestLimitExceeded",
                 "TooManyRequestsException"}) ||
             http_status == 429) {
    result.status = Unavailable(text + "; throttled, retry later");
  } else if (is({"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
                 "InvalidSignatureException", "IncompleteSignature", "MissingAuthenticationToken",
                 "MissingAuthenticationTokenException", "ExpiredToken", "ExpiredTokenException",
                 "InvalidSecurity", "AuthFailure"})) {
    result.status = Status(StatusCode::kUnauthenticated,
                           text + "; the AWS credentials or the signature were refused: check the access key, "
                                  "secret, session token, region and clock");
  } else if (is({"AccessDenied", "AccessDeniedException", "KMS.AccessDeniedException"}) || http_status == 403) {
    result.status = Status(StatusCode::kPermissionDenied, text + "; the credentials lack permission for this queue");
  } else if (http_status >= 500) {
    result.status = Unavailable(text);
    result.indeterminate = http_status != 503;
  } else {
    result.status = InvalidArgument(text);
  }
  return result;
}

// ---- client ------------------------------------------------------------------

SqsClient::SqsClient(SqsClientOptions options) : options_(std::move(options)) {
  GlobalInit();
  endpoint_ = options_.endpoint.empty() ? DefaultEndpoint(options_.region) : options_.endpoint;
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  size_t scheme_end = endpoint_.find("://");
  size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  size_t path_start = endpoint_.find('/', host_start);
  host_ = endpoint_.substr(host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  path_ = path_start == std::string::npos ? "/" : endpoint_.substr(path_start) + "/";
  // The Host header carries the port only when it is not the scheme's default.
  if (EndsWith(host_, ":443") && endpoint_.rfind("https://", 0) == 0) host_.resize(host_.size() - 4);
  if (EndsWith(host_, ":80") && endpoint_.rfind("http://", 0) == 0) host_.resize(host_.size() - 3);
}

SqsClient::~SqsClient() {
  for (void* handle : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* SqsClient::AcquireHandle() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void SqsClient::ReleaseHandle(void* handle) {
  std::lock_guard lock(mutex_);
  if (idle_handles_.size() < 8) {
    idle_handles_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

CallResult SqsClient::Call(std::string_view action, const json& request, std::chrono::milliseconds extra_timeout,
                           const std::atomic<bool>* cancel) {
  std::string what = "SQS " + std::string(action);
  if (std::string queue = QueueOf(request); !queue.empty()) what += " (queue " + queue + ")";
  CallResult result;
  std::string payload;
  try {
    payload = request.dump();
  } catch (const std::exception& error) {
    result.status = InvalidArgument(what + ": cannot encode the request: " + error.what());
    return result;
  }

  SignableRequest signable;
  signable.method = "POST";
  signable.path = path_;
  signable.payload = payload;
  signable.headers = {{"Host", host_},
                      {"Content-Type", "application/x-amz-json-1.0"},
                      {"X-Amz-Target", "AmazonSQS." + std::string(action)}};
  SignRequest(&signable, options_.credentials.keys, options_.region, "sqs", AmzDate(std::chrono::system_clock::now()));

  CURL* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr) {
    result.status = Internal(what + ": curl_easy_init failed");
    return result;
  }
  curl_easy_reset(curl);
  struct curl_slist* headers = nullptr;
  for (const auto& [name, value] : signable.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  std::string response_body;
  std::string query_error;
  std::string url = endpoint_ + "/";  // endpoint_ keeps its own path, if any
  auto timeout = options_.request_timeout + extra_timeout;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response_body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &query_error);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (cancel != nullptr) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &AbortWhenCancelled);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }

  CURLcode code = curl_easy_perform(curl);
  long http_status = 0;
  long request_size = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_size);
  curl_slist_free_all(headers);
  if (code != CURLE_OK) {
    // A failed connection drops the handle's cached connection state too.
    curl_easy_cleanup(curl);
    std::string text = what + " to " + endpoint_ + ": " + curl_easy_strerror(code);
    result.indeterminate = request_size > 0;
    if (code == CURLE_OPERATION_TIMEDOUT) {
      result.status = DeadlineExceeded(text + " after " + std::to_string(timeout.count()) + " ms");
    } else if (code == CURLE_ABORTED_BY_CALLBACK) {
      result.status = Unavailable(what + ": cancelled (the backend is closing)");
    } else {
      result.status = Unavailable(text);
    }
    return result;
  }
  ReleaseHandle(curl);
  if (http_status < 200 || http_status >= 300) {
    return ErrorFromResponse(http_status, response_body, query_error, what);
  }
  result.body = json::parse(response_body.empty() ? std::string("{}") : response_body, nullptr, false);
  if (result.body.is_discarded() || !result.body.is_object()) {
    result.status = Internal(what + ": response is not a JSON object");
    result.indeterminate = true;
    result.body = json::object();
  }
  return result;
}

Result<std::string> SqsClient::GetQueueUrl(const std::string& queue_name) {
  CallResult result = Call("GetQueueUrl", json{{"QueueName", queue_name}});
  if (!result.status.ok()) return result.status;
  std::string url = StringField(result.body, "QueueUrl");
  if (url.empty()) return Internal("SQS GetQueueUrl (queue " + queue_name + "): response has no QueueUrl");
  return url;
}

Result<std::string> SqsClient::CreateQueue(const std::string& queue_name,
                                           const std::map<std::string, std::string>& attributes) {
  json request = {{"QueueName", queue_name}};
  if (!attributes.empty()) request["Attributes"] = attributes;
  CallResult result = Call("CreateQueue", request);
  if (!result.status.ok()) return result.status;
  std::string url = StringField(result.body, "QueueUrl");
  if (url.empty()) return Internal("SQS CreateQueue (queue " + queue_name + "): response has no QueueUrl");
  return url;
}

SentMessage SqsClient::SendMessage(const std::string& queue_url, const OutgoingMessage& message) {
  CallResult result = Call("SendMessage", BuildSendMessageRequest(queue_url, message));
  if (!result.status.ok()) return SentMessage{result.status, result.indeterminate, ""};
  return ParseSendMessageResponse(result.body, message);
}

std::vector<SentMessage> SqsClient::SendMessageBatch(const std::string& queue_url,
                                                     const std::vector<OutgoingMessage>& messages) {
  if (messages.size() == 1) return {SendMessage(queue_url, messages[0])};
  CallResult result = Call("SendMessageBatch", BuildSendMessageBatchRequest(queue_url, messages));
  if (!result.status.ok()) {
    return std::vector<SentMessage>(messages.size(), SentMessage{result.status, result.indeterminate, ""});
  }
  return ParseSendMessageBatchResponse(result.body, messages);
}

Result<std::vector<ReceivedMessage>> SqsClient::ReceiveMessage(const std::string& queue_url,
                                                               const ReceiveOptions& options) {
  CallResult result = Call("ReceiveMessage", BuildReceiveMessageRequest(queue_url, options),
                           std::chrono::seconds(std::clamp(options.wait_seconds, 0, 20)), options.cancel);
  if (!result.status.ok()) return result.status;
  return ParseReceiveMessageResponse(result.body);
}

Status SqsClient::DeleteMessage(const std::string& queue_url, const std::string& receipt_handle) {
  return Call("DeleteMessage", json{{"QueueUrl", queue_url}, {"ReceiptHandle", receipt_handle}}).status;
}

Result<std::vector<Status>> SqsClient::DeleteMessageBatch(const std::string& queue_url,
                                                          const std::vector<std::string>& receipts) {
  json entries = json::array();
  for (size_t i = 0; i < receipts.size(); ++i) entries.push_back({{"Id", std::to_string(i)}, {"ReceiptHandle", receipts[i]}});
  CallResult result = Call("DeleteMessageBatch", json{{"QueueUrl", queue_url}, {"Entries", entries}});
  if (!result.status.ok()) return result.status;
  return ParseDeleteMessageBatchResponse(result.body, receipts.size());
}

Status SqsClient::ChangeMessageVisibility(const std::string& queue_url, const std::string& receipt_handle,
                                          int seconds) {
  return Call("ChangeMessageVisibility",
              json{{"QueueUrl", queue_url}, {"ReceiptHandle", receipt_handle}, {"VisibilityTimeout", seconds}})
      .status;
}

Result<std::map<std::string, std::string>> SqsClient::GetQueueAttributes(const std::string& queue_url,
                                                                         const std::vector<std::string>& names) {
  CallResult result = Call("GetQueueAttributes", json{{"QueueUrl", queue_url}, {"AttributeNames", names}});
  if (!result.status.ok()) return result.status;
  return ParseGetQueueAttributesResponse(result.body);
}

Status SqsClient::PurgeQueue(const std::string& queue_url) {
  return Call("PurgeQueue", json{{"QueueUrl", queue_url}}).status;
}

}  // namespace wal::queue::sqs
