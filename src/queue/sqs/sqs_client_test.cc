// The SQS client's pure parts: JSON requests, response parsing, the MD5 check
// and the error mapping. No server needed (the ElasticMQ test covers the wire).
#include "queue/sqs/sqs_client.h"

#include <gtest/gtest.h>

#include "queue/sqs/sigv4.h"
#include "queue/sqs/sqs_backend.h"

namespace wal::queue::sqs {
namespace {

using json = nlohmann::json;
constexpr char kUrl[] = "http://127.0.0.1:9324/000000000000/orders";

TEST(SqsClientTest, SendMessageRequest) {
  OutgoingMessage message{"aGVsbG8=", 900, {{"wal-due-ms", "1700000000000"}, {"wal-ordering-key", "k1"}, {"empty", ""}}};
  json request = BuildSendMessageRequest(kUrl, message);
  EXPECT_EQ(request["QueueUrl"], kUrl);
  EXPECT_EQ(request["MessageBody"], "aGVsbG8=");
  EXPECT_EQ(request["DelaySeconds"], 900);
  EXPECT_EQ(request["MessageAttributes"]["wal-due-ms"]["DataType"], "Number");
  EXPECT_EQ(request["MessageAttributes"]["wal-due-ms"]["StringValue"], "1700000000000");
  EXPECT_EQ(request["MessageAttributes"]["wal-ordering-key"]["DataType"], "String");
  EXPECT_FALSE(request["MessageAttributes"].contains("empty"));  // SQS refuses empty values
}

TEST(SqsClientTest, SendMessageBatchRequestNumbersEntries) {
  std::vector<OutgoingMessage> messages = {{"YQ==", 0, {}}, {"Yg==", 5, {}}};
  json request = BuildSendMessageBatchRequest(kUrl, messages);
  ASSERT_EQ(request["Entries"].size(), 2u);
  EXPECT_EQ(request["Entries"][0]["Id"], "0");
  EXPECT_EQ(request["Entries"][1]["Id"], "1");
  EXPECT_EQ(request["Entries"][1]["DelaySeconds"], 5);
  EXPECT_FALSE(request["Entries"][0].contains("MessageAttributes"));
}

TEST(SqsClientTest, ReceiveMessageRequest) {
  json request = BuildReceiveMessageRequest(kUrl, ReceiveOptions{25, 99, 60});
  EXPECT_EQ(request["MaxNumberOfMessages"], 10);
  EXPECT_EQ(request["WaitTimeSeconds"], 20);
  EXPECT_EQ(request["VisibilityTimeout"], 60);
  EXPECT_EQ(request["MessageAttributeNames"], json::array({"All"}));
  EXPECT_NE(request["MessageSystemAttributeNames"].dump().find("ApproximateReceiveCount"), std::string::npos);
  EXPECT_FALSE(BuildReceiveMessageRequest(kUrl, ReceiveOptions{}).contains("VisibilityTimeout"));
}

TEST(SqsClientTest, SendMessageResponseNeedsMatchingMd5) {
  OutgoingMessage message{"aGVsbG8=", 0, {}};
  SentMessage good = ParseSendMessageResponse(
      json{{"MessageId", "m-1"}, {"MD5OfMessageBody", "0733351879b2fa9bd05c7ca3061529c0"}}, message);
  EXPECT_TRUE(good.status.ok()) << good.status.ToString();
  EXPECT_EQ(good.message_id, "m-1");

  SentMessage bad = ParseSendMessageResponse(
      json{{"MessageId", "m-1"}, {"MD5OfMessageBody", "00000000000000000000000000000000"}}, message);
  EXPECT_FALSE(bad.status.ok());
  EXPECT_TRUE(bad.indeterminate);  // SQS stored *something*: not a clean failure
  EXPECT_NE(bad.status.message().find("MD5OfMessageBody mismatch"), std::string::npos);

  SentMessage missing = ParseSendMessageResponse(json{{"MD5OfMessageBody", Md5Hex("aGVsbG8=")}}, message);
  EXPECT_FALSE(missing.status.ok());
}

TEST(SqsClientTest, SendMessageBatchResponse) {
  std::vector<OutgoingMessage> sent = {{"YQ==", 0, {}}, {"Yg==", 0, {}}, {"Yw==", 0, {}}, {"ZA==", 0, {}}};
  json response = {
      {"Successful",
       json::array({{{"Id", "0"}, {"MessageId", "m0"}, {"MD5OfMessageBody", Md5Hex("YQ==")}},
                    {{"Id", "1"}, {"MessageId", "m1"}, {"MD5OfMessageBody", Md5Hex("wrong")}}})},
      {"Failed", json::array({{{"Id", "2"}, {"SenderFault", false}, {"Code", "InternalError"}, {"Message", "x"}}})}};
  std::vector<SentMessage> results = ParseSendMessageBatchResponse(response, sent);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].status.ok());
  EXPECT_EQ(results[0].message_id, "m0");
  EXPECT_FALSE(results[1].status.ok());  // MD5 mismatch
  EXPECT_EQ(results[2].status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(results[2].indeterminate);
  EXPECT_FALSE(results[3].status.ok());  // not mentioned at all
  EXPECT_TRUE(results[3].indeterminate);
}

TEST(SqsClientTest, ReceiveMessageResponse) {
  json response = json::parse(R"({"Messages":[{"Attributes":{"ApproximateReceiveCount":"3","SentTimestamp":"1795740849472"},
    "Body":"aGVsbG8=","MD5OfBody":"0733351879b2fa9bd05c7ca3061529c0",
    "MessageAttributes":{"wal-due-ms":{"DataType":"Number","StringValue":"123"}},
    "MessageId":"a6882772","ReceiptHandle":"a6882772#0c49"}]})");
  auto messages = ParseReceiveMessageResponse(response);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 1u);
  const ReceivedMessage& message = (*messages)[0];
  EXPECT_EQ(message.message_id, "a6882772");
  EXPECT_EQ(message.receipt_handle, "a6882772#0c49");
  EXPECT_EQ(message.receive_count, 3u);
  EXPECT_EQ(message.sent_timestamp_ms, 1795740849472);
  EXPECT_EQ(message.attributes.at("wal-due-ms"), "123");
  EXPECT_TRUE(ParseReceiveMessageResponse(json::object())->empty());

  response["Messages"][0]["MD5OfBody"] = "ffffffffffffffffffffffffffffffff";
  EXPECT_FALSE(ParseReceiveMessageResponse(response).ok());
  // Malformed numbers do not throw across the API.
  response["Messages"][0]["MD5OfBody"] = "0733351879b2fa9bd05c7ca3061529c0";
  response["Messages"][0]["Attributes"]["ApproximateReceiveCount"] = "lots";
  EXPECT_EQ(ParseReceiveMessageResponse(response).status().code(), StatusCode::kInternal);
}

TEST(SqsClientTest, ReceiveCountsAndTimestampsMustBeWholeNumbersInRange) {
  json response = json::parse(R"({"Messages":[{"Attributes":{"ApproximateReceiveCount":"1"},
    "Body":"", "MessageId":"m", "ReceiptHandle":"r"}]})");
  for (const char* count : {"-1", "4294967296", "3.0", " 3"}) {
    response["Messages"][0]["Attributes"]["ApproximateReceiveCount"] = count;
    EXPECT_EQ(ParseReceiveMessageResponse(response).status().code(), StatusCode::kInternal) << count;
  }
  response["Messages"][0]["Attributes"] = {{"SentTimestamp", "99999999999999999999"}};
  EXPECT_EQ(ParseReceiveMessageResponse(response).status().code(), StatusCode::kInternal);
  EXPECT_FALSE(ParseReceiveMessageResponse(json::array()).ok());
  response["Messages"] = json::array({5});
  EXPECT_FALSE(ParseReceiveMessageResponse(response).ok());
}

TEST(SqsClientTest, BatchEntriesWithOddIdsAreSkippedNotFatal) {
  std::vector<OutgoingMessage> sent = {{"YQ==", 0, {}}, {"Yg==", 0, {}}};
  json response = {{"Successful", json::array({{{"Id", "99999999999999999999"}}, {{"Id", "-1"}}, 7,
                                               {{"Id", "1"}, {"MessageId", "m1"}, {"MD5OfMessageBody", Md5Hex("Yg==")}}})},
                   {"Failed", json::array({{{"Id", "0"}, {"SenderFault", "yes"}, {"Code", 5}}})}};
  std::vector<SentMessage> results = ParseSendMessageBatchResponse(response, sent);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(results[1].status.ok()) << results[1].status.ToString();

  json deleted = {{"Successful", json::array({{{"Id", ""}}, {{"Id", "1"}}})},
                  {"Failed", json::array({{{"Id", "0"}, {"Code", "ReceiptHandleIsInvalid"}}})}};
  std::vector<Status> statuses = ParseDeleteMessageBatchResponse(deleted, 3);
  ASSERT_EQ(statuses.size(), 3u);
  EXPECT_EQ(statuses[0].code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(statuses[1].ok());
  EXPECT_EQ(statuses[2].code(), StatusCode::kInternal);  // not in the response
  EXPECT_EQ(ParseGetQueueAttributesResponse(json::parse(R"({"Attributes":{"A":"1","B":2}})")),
            (std::map<std::string, std::string>{{"A", "1"}}));
}

TEST(SqsClientTest, ErrorTextQuotedFromAResponseIsValidUtf8) {
  CallResult result = ErrorFromResponse(400, "\xff\xfe not json \xc3", "", "SQS SendMessage (queue q)");
  EXPECT_EQ(result.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status.message().find("\xef\xbf\xbd"), std::string::npos) << result.status.message();
  EXPECT_EQ(result.status.message().find("\xff"), std::string::npos);
}

TEST(SqsClientTest, ErrorMapping) {
  auto map = [](long status, const std::string& body, const std::string& header = "") {
    return ErrorFromResponse(status, body, header, "SQS SendMessage (queue orders)");
  };
  CallResult missing = map(400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
                           "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(missing.status.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status.message().find("queue orders"), std::string::npos);
  EXPECT_EQ(map(400, "{}", "AWS.SimpleQueueService.NonExistentQueue;Sender").status.code(), StatusCode::kNotFound);
  EXPECT_EQ(map(400, R"({"__type":"com.amazonaws.sqs#ThrottlingException","message":"slow down"})").status.code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(map(400, R"({"__type":"RequestThrottled"})").status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(map(429, "").status.code(), StatusCode::kUnavailable);
  CallResult bad_key = map(403, R"({"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."})");
  EXPECT_EQ(bad_key.status.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(bad_key.status.message().find("credentials"), std::string::npos);
  EXPECT_EQ(map(403, R"({"__type":"InvalidClientTokenId"})").status.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(map(403, R"({"__type":"SignatureDoesNotMatch"})").status.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(map(403, R"({"__type":"com.amazon.coral.service#AccessDeniedException"})").status.code(),
            StatusCode::kPermissionDenied);
  CallResult server = map(500, "There was an internal server error.");
  EXPECT_EQ(server.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(server.indeterminate);
  CallResult unavailable = map(503, R"({"__type":"ServiceUnavailable"})");
  EXPECT_EQ(unavailable.status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(unavailable.indeterminate);
  EXPECT_EQ(map(400, R"({"__type":"com.amazonaws.sqs#InvalidParameterValue","Message":"bad"})").status.code(),
            StatusCode::kInvalidArgument);
}

TEST(SqsClientTest, EntryIdsAreStableAndPositive) {
  EXPECT_EQ(EntryIdForMessage("a6882772-d42d-46c0-a698-15fb1df4a45f"),
            EntryIdForMessage("a6882772-d42d-46c0-a698-15fb1df4a45f"));
  EXPECT_NE(EntryIdForMessage("a"), EntryIdForMessage("b"));
  EXPECT_LT(EntryIdForMessage("a"), uint64_t(1) << 63);
}

TEST(SqsClientTest, UnreachableEndpointIsUnavailableAndNotIndeterminate) {
  SqsClientOptions options;
  options.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  options.credentials.keys = {"AKID", "SECRET", ""};
  SqsClient client(options);
  SentMessage sent = client.SendMessage(kUrl, OutgoingMessage{"YQ==", 0, {}});
  EXPECT_EQ(sent.status.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(sent.indeterminate);
  EXPECT_NE(sent.status.message().find("127.0.0.1:1"), std::string::npos);
}

TEST(SqsClientTest, DefaultEndpoint) { EXPECT_EQ(DefaultEndpoint("eu-west-1"), "https://sqs.eu-west-1.amazonaws.com"); }

}  // namespace
}  // namespace wal::queue::sqs
