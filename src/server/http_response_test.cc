#include "server/http_response.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "wal/v1/wal.pb.h"

namespace wal::server {
namespace {

std::string HeaderOf(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST(HttpResponseTest, AnErrorIsGoogleRestsErrorObject) {
  HttpResponse response = ErrorResponse(NotFound("namespace orders does not exist"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body,
            R"({"error":{"code":404,"message":"namespace orders does not exist","status":"NOT_FOUND","details":[)"
            R"({"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"NOT_FOUND","domain":"wal"}]}})");
  EXPECT_TRUE(response.headers.empty());
}

TEST(HttpResponseTest, TheStatusIsTheGrpcNameAndTheReasonWalsOwnCode) {
  auto error = nlohmann::json::parse(ErrorResponse(Corruption("segment 3: bad checksum")).body)["error"];
  EXPECT_EQ(error["code"], 500);
  EXPECT_EQ(error["status"], "DATA_LOSS");
  EXPECT_EQ(error["details"][0]["reason"], "CORRUPTION");
  error = nlohmann::json::parse(ErrorResponse(NoSpace("disk full")).body)["error"];
  EXPECT_EQ(error["code"], 507);
  EXPECT_EQ(error["status"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(error["details"][0]["reason"], "NO_SPACE");
}

TEST(HttpResponseTest, Every429And503CarriesRetryAfter) {
  HttpResponse unavailable = ErrorResponse(Unavailable("wald is shutting down"));
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(HeaderOf(unavailable, "Retry-After"), "1");
  ErrorExtras extras;
  extras.retry_after_seconds = 10;
  HttpResponse limited = ErrorResponse(ResourceExhausted("over the rate limit"), 0, extras);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(HeaderOf(limited, "Retry-After"), "10");
  auto details = nlohmann::json::parse(limited.body)["error"]["details"];
  ASSERT_EQ(details.size(), 2u);
  EXPECT_EQ(details[1]["@type"], "type.googleapis.com/google.rpc.RetryInfo");
  EXPECT_EQ(details[1]["retryDelay"], "10s");
  // Only those two: a 400 names no wait, whatever the extras say.
  EXPECT_EQ(HeaderOf(ErrorResponse(InvalidArgument("bad"), 0, extras), "Retry-After"), "");
  // A write answered durable=FALSE is a 503 with the write's own body.
  v1::WriteToLogResponse not_stored;
  not_stored.set_durable(v1::FALSE);
  EXPECT_EQ(HeaderOf(MessageResponse(not_stored, 503), "Retry-After"), "1");
}

TEST(HttpResponseTest, TheTransports413NamesTheLimitAndItsValue) {
  HttpResponse response = TransportErrorResponse(413, 65536);
  EXPECT_EQ(response.status, 413);
  auto error = nlohmann::json::parse(response.body)["error"];
  EXPECT_EQ(error["status"], "RESOURCE_EXHAUSTED");
  EXPECT_NE(error["message"].get<std::string>().find("max_request_bytes (65536 bytes)"), std::string::npos);
  EXPECT_EQ(error["details"][0]["metadata"]["limit"], "max_request_bytes");
  EXPECT_EQ(error["details"][0]["metadata"]["max_request_bytes"], "65536");
  EXPECT_EQ(nlohmann::json::parse(TransportErrorResponse(400, 1).body)["error"]["status"], "INVALID_ARGUMENT");
}

TEST(HttpResponseTest, AMisdirectedCallIs421WithTheShardInTheErrorInfo) {
  Admission admission(FailedPrecondition("namespace payments is served by shard b"));
  admission.shard = "b";
  admission.address = "10.0.0.2:7400";
  admission.http_address = "10.0.0.2:7401";
  HttpResponse response = RefusalResponse(admission);
  EXPECT_EQ(response.status, 421);
  EXPECT_EQ(HeaderOf(response, "Wal-Shard-Address"), "10.0.0.2:7400");
  auto info = nlohmann::json::parse(response.body)["error"]["details"][0];
  EXPECT_EQ(info["reason"], "WRONG_SHARD");
  EXPECT_EQ(info["metadata"]["shard"], "b");
  EXPECT_EQ(info["metadata"]["address"], "10.0.0.2:7400");
  EXPECT_EQ(info["metadata"]["http_address"], "10.0.0.2:7401");
}

TEST(HttpResponseTest, BytesThatAreNotUtf8AreWrittenAsReplacementCharacters) {
  auto error = nlohmann::json::parse(ErrorResponse(NotFound("no route for GET /\xff"), 404).body)["error"];
  EXPECT_EQ(error["message"], "no route for GET /\xef\xbf\xbd");
}

TEST(HttpResponseTest, AMessagePrintsEveryFieldEvenAtItsDefault) {
  v1::WriteToLogResponse first;
  first.set_durable(v1::TRUE);
  EXPECT_EQ(MessageResponse(first).body, R"({"durable":"TRUE","message":"","id":"0"})");
}

}  // namespace
}  // namespace wal::server
