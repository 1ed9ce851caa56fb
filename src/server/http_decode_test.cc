#include "server/http_decode.h"

#include <gtest/gtest.h>

namespace wal::server {
namespace {

HttpRequest Request(std::string method, std::string path, std::string body = "",
                    std::vector<std::pair<std::string, std::string>> query = {}) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = std::move(query);
  request.body = std::move(body);
  return request;
}

// A copy: callers keep it past the decoded temporary.
HttpCall Call(const HttpDecoded& decoded) {
  EXPECT_TRUE(std::holds_alternative<HttpCall>(decoded));
  return std::holds_alternative<HttpCall>(decoded) ? std::get<HttpCall>(decoded) : HttpCall();
}

int ErrorStatus(const HttpDecoded& decoded) {
  return std::holds_alternative<HttpError>(decoded) ? std::get<HttpError>(decoded).http_status : 0;
}

TEST(HttpDecodeTest, WriteTakesTheNamespaceFromThePath) {
  HttpRequest request = Request("POST", "/v1/namespaces/orders/log:write", R"({"payload":{"opaque":"aGk="}})");
  request.headers = {{"authorization", "Bearer t"}};
  const HttpCall& call = Call(DecodeHttpRequest(request));
  EXPECT_EQ(call.route, HttpRoute::kWrite);
  EXPECT_FALSE(call.gated);
  EXPECT_EQ(call.authorization, "Bearer t");
  ASSERT_TRUE(call.invalid.ok()) << call.invalid.ToString();
  const auto& write = std::get<v1::WriteToLogRequest>(call.message);
  EXPECT_EQ(write.namespace_(), "orders");
  EXPECT_EQ(write.payload().opaque(), "hi");
}

TEST(HttpDecodeTest, MalformedBodiesAreInvalidButStillRoutedForTheGate) {
  const HttpCall& call = Call(DecodeHttpRequest(Request("POST", "/v1/namespaces/orders/log:write", "{nope")));
  EXPECT_EQ(call.route, HttpRoute::kWrite);
  EXPECT_EQ(call.name, "orders");
  EXPECT_EQ(call.invalid.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(call.invalid.message().find("request body"), std::string::npos);

  const HttpCall& other = Call(DecodeHttpRequest(
      Request("POST", "/v1/namespaces/orders/log:write", R"({"namespace":"payments","payload":{"opaque":""}})")));
  EXPECT_NE(other.invalid.message().find("path says 'orders'"), std::string::npos);

  const HttpCall& binary = Call(DecodeHttpRequest(Request("PUT", "/v1/namespaces/orders", "{\"a\":\"\xff\"}")));
  EXPECT_NE(binary.invalid.message().find("UTF-8"), std::string::npos);
}

TEST(HttpDecodeTest, UnknownPathsAre404AndWrongMethods405) {
  EXPECT_EQ(ErrorStatus(DecodeHttpRequest(Request("GET", "/nothing"))), 404);
  EXPECT_EQ(ErrorStatus(DecodeHttpRequest(Request("GET", "/v1/namespaces/a:b"))), 404);
  EXPECT_EQ(ErrorStatus(DecodeHttpRequest(Request("GET", "/v1/namespaces/orders/log:write"))), 405);
  EXPECT_EQ(ErrorStatus(DecodeHttpRequest(Request("POST", "/v1/namespaces"))), 405);
  EXPECT_EQ(ErrorStatus(DecodeHttpRequest(Request("DELETE", "/v1/status"))), 405);
  EXPECT_EQ(ErrorStatus(DecodeHttpRequest(Request("BREW", "/healthz"))), 405);
}

TEST(HttpDecodeTest, PathsThatAreNotUtf8Are400) {
  HttpDecoded decoded = DecodeHttpRequest(Request("GET", "/\xff"));
  ASSERT_EQ(ErrorStatus(decoded), 400);
  EXPECT_EQ(std::get<HttpError>(decoded).status.message(), "the request path is not valid UTF-8");
}

// The Allow header of a 405 lists exactly the methods Decode serves on the path.
TEST(HttpDecodeTest, A405ListsTheMethodsThePathAccepts) {
  const char* paths[] = {"/healthz", "/readyz", "/metrics", "/v1/namespaces", "/v1/status", "/v1/shard-map",
                         "/v1/namespaces/orders", "/v1/namespaces/orders/log:write", "/v1/namespaces/orders/log",
                         "/v1/namespaces/orders/dlq", "/v1/namespaces/orders/dlq:redrive",
                         "/v1/namespaces/orders/dlq:purge"};
  const char* methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
  for (const char* path : paths) {
    std::string allowed;
    std::string allow_header;
    for (const char* method : methods) {
      HttpDecoded decoded = DecodeHttpRequest(Request(method, path));
      if (const auto* error = std::get_if<HttpError>(&decoded)) {
        ASSERT_EQ(error->http_status, 405) << method << " " << path;
        allow_header = error->allow;
        EXPECT_NE(error->status.message().find(error->allow), std::string::npos) << error->status.message();
      } else {
        allowed += (allowed.empty() ? "" : ", ") + std::string(method);
      }
    }
    EXPECT_EQ(allow_header, allowed) << path;
  }
  EXPECT_EQ(std::get<HttpError>(DecodeHttpRequest(Request("GET", "/nowhere"))).allow, "");
}

TEST(HttpDecodeTest, ListsTakeFromOrFromIdButNotBoth) {
  const HttpCall& long_form =
      Call(DecodeHttpRequest(Request("GET", "/v1/namespaces/orders/dlq", "", {{"from_id", "7"}})));
  ASSERT_TRUE(long_form.invalid.ok()) << long_form.invalid.ToString();
  EXPECT_EQ(std::get<v1::ListDeadLettersRequest>(long_form.message).from_id(), 7u);
  const HttpCall& both =
      Call(DecodeHttpRequest(Request("GET", "/v1/namespaces/orders/log", "", {{"from_id", "7"}, {"from", "8"}})));
  EXPECT_EQ(both.invalid.code(), StatusCode::kInvalidArgument);
}

TEST(HttpDecodeTest, AShardMapIsTakenAsTextOrAsOneJsonString) {
  const HttpCall& text = Call(DecodeHttpRequest(Request("PUT", "/v1/shard-map", "shards: {}\n")));
  EXPECT_EQ(std::get<v1::ApplyShardMapRequest>(text.message).map(), "shards: {}\n");
  const HttpCall& quoted = Call(DecodeHttpRequest(Request("PUT", "/v1/shard-map", R"( "shards: {}\n")")));
  ASSERT_TRUE(quoted.invalid.ok()) << quoted.invalid.ToString();
  EXPECT_EQ(std::get<v1::ApplyShardMapRequest>(quoted.message).map(), "shards: {}\n");
  const HttpCall& broken = Call(DecodeHttpRequest(Request("PUT", "/v1/shard-map", R"("unterminated)")));
  EXPECT_EQ(broken.invalid.code(), StatusCode::kInvalidArgument);
}

TEST(HttpDecodeTest, QueryParametersAreCheckedAndMayNotRepeat) {
  const HttpCall& read = Call(DecodeHttpRequest(
      Request("GET", "/v1/namespaces/orders/log", "", {{"from", "18446744073709551615"}, {"limit", "10000"}})));
  ASSERT_TRUE(read.invalid.ok()) << read.invalid.ToString();
  EXPECT_EQ(std::get<v1::ReadLogRequest>(read.message).from_id(), 18446744073709551615ull);
  EXPECT_EQ(std::get<v1::ReadLogRequest>(read.message).limit(), 10000u);

  for (auto query : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"from", "18446744073709551616"}}, {{"from", "-1"}}, {{"limit", "10001"}}, {{"limit", ""}},
           {{"from", "1"}, {"from", "2"}}}) {
    const HttpCall& bad = Call(DecodeHttpRequest(Request("GET", "/v1/namespaces/orders/dlq", "", query)));
    EXPECT_EQ(bad.invalid.code(), StatusCode::kInvalidArgument) << query[0].first << "=" << query[0].second;
  }
  const HttpCall& purge =
      Call(DecodeHttpRequest(Request("DELETE", "/v1/namespaces/orders", "", {{"purge_data", "yes"}})));
  EXPECT_NE(purge.invalid.message().find("purge_data"), std::string::npos);
  const HttpCall& status = Call(DecodeHttpRequest(Request("GET", "/v1/status", "", {{"namespace", "\xff"}})));
  EXPECT_EQ(status.invalid.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.name, "");
}

TEST(HttpDecodeTest, AdminRoutesNeedTheRightScope) {
  EXPECT_EQ(Call(DecodeHttpRequest(Request("GET", "/v1/namespaces/orders"))).scope, Scope::kRead);
  const HttpCall& apply = Call(DecodeHttpRequest(Request("PUT", "/v1/namespaces/orders", R"({"max_retries":3})")));
  EXPECT_EQ(apply.scope, Scope::kAdmin);
  EXPECT_TRUE(apply.gated);
  const auto& config = std::get<v1::ApplyNamespaceRequest>(apply.message).config();
  EXPECT_EQ(config.fields().at("name").string_value(), "orders");
  const HttpCall& renamed = Call(DecodeHttpRequest(Request("PUT", "/v1/namespaces/orders", R"({"name":5})")));
  EXPECT_EQ(renamed.invalid.message(), "name: must be a string");
  const HttpCall& redrive =
      Call(DecodeHttpRequest(Request("POST", "/v1/namespaces/orders/dlq:redrive", R"({"ids":["3"]})")));
  EXPECT_EQ(redrive.scope, Scope::kAdmin);
  EXPECT_EQ(std::get<v1::RedriveDeadLettersRequest>(redrive.message).ids(0), 3u);
  EXPECT_EQ(Call(DecodeHttpRequest(Request("PUT", "/v1/shard-map", "shards: {}"))).scope, Scope::kAdmin);
  EXPECT_FALSE(Call(DecodeHttpRequest(Request("HEAD", "/healthz"))).gated);
}

}  // namespace
}  // namespace wal::server
