// The SQS client's response parsing over arbitrary bodies: whatever SQS (or
// something pretending to be SQS) answers, each parser returns a value or a
// Status, never throws, gives one result per message sent, and quotes response
// text into its messages only as valid UTF-8.
//
// Input: byte 0 = the HTTP status of an error response (as 200 + byte0 * 2);
// the rest is the response body.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "common/utf8.h"
#include "fuzz_check.h"
#include "queue/sqs/sqs_client.h"

namespace {

using namespace wal;
using namespace wal::queue::sqs;

void CheckStatus(const Status& status) {
  FUZZ_CHECK(IsValidUtf8(status.message()));
  FUZZ_CHECK(status.ok() || !status.message().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const long http_status = 200 + static_cast<long>(data[0]) * 2;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  CallResult error = ErrorFromResponse(http_status, body, body.substr(0, 64), "SQS SendMessage (queue q)");
  FUZZ_CHECK(!error.status.ok());
  CheckStatus(error.status);

  const nlohmann::json response = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded()) return 0;

  const std::vector<OutgoingMessage> sent = {{"YQ==", 0, {}}, {"Yg==", 3, {{"wal-due-ms", "5"}}}, {"", 0, {}}};
  SentMessage one = ParseSendMessageResponse(response, sent[0]);
  CheckStatus(one.status);
  if (one.status.ok()) FUZZ_CHECK(!one.message_id.empty());

  std::vector<SentMessage> batch = ParseSendMessageBatchResponse(response, sent);
  FUZZ_CHECK(batch.size() == sent.size());
  for (const SentMessage& result : batch) CheckStatus(result.status);

  auto received = ParseReceiveMessageResponse(response);
  if (received.ok()) {
    for (const ReceivedMessage& message : *received) {
      FUZZ_CHECK(!message.message_id.empty());
      FUZZ_CHECK(!message.receipt_handle.empty());
    }
  } else {
    CheckStatus(received.status());
  }

  std::vector<Status> deleted = ParseDeleteMessageBatchResponse(response, 4);
  FUZZ_CHECK(deleted.size() == 4);
  for (const Status& status : deleted) CheckStatus(status);
  (void)ParseGetQueueAttributesResponse(response);
  return 0;
}
