// SigV4 against AWS's published Signature Version 4 test suite
// (aws-sig-v4-test-suite: credentials AKIDEXAMPLE, region us-east-1, service
// "service", 2015-08-30T12:36:00Z) and the signing-key example of the SigV4
// documentation. The expected values are AWS's, copied as data.
#include "queue/sqs/sigv4.h"

#include <gtest/gtest.h>

namespace wal::queue::sqs {
namespace {

const SigningCredentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr char kDate[] = "20150830T123600Z";
constexpr char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Authorization(const std::string& signed_headers, const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

SignableRequest Vanilla(const std::string& method) {
  SignableRequest request;
  request.method = method;
  request.path = "/";
  request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kDate}};
  return request;
}

TEST(SigV4Test, SigningKeyDerivationMatchesTheDocumentedExample) {
  EXPECT_EQ(HexEncode(SigningKey(kSuite.secret_access_key, "20150830", "us-east-1", "iam")),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  // ... and the documented IAM ListUsers string to sign signs to its published signature.
  std::string sts =
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
      "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
  EXPECT_EQ(HexEncode(HmacSha256(SigningKey(kSuite.secret_access_key, "20150830", "us-east-1", "iam"), sts)),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4Test, GetVanilla) {
  SignableRequest request = Vanilla("GET");
  SigningTrace trace = SignRequest(&request, kSuite, "us-east-1", "service", kDate);
  EXPECT_EQ(trace.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                std::string(kEmptySha));
  EXPECT_EQ(trace.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(trace.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(trace.authorization,
            Authorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"));
  // The header was added, and X-Amz-Date was not duplicated.
  EXPECT_EQ(request.headers.size(), 3u);
  EXPECT_EQ(request.headers.back().first, "Authorization");
}

TEST(SigV4Test, PostVanilla) {
  SignableRequest request = Vanilla("POST");
  SigningTrace trace = SignRequest(&request, kSuite, "us-east-1", "service", kDate);
  EXPECT_EQ(trace.canonical_request,
            "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                std::string(kEmptySha));
  EXPECT_EQ(trace.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
                Sha256Hex(trace.canonical_request));
  EXPECT_EQ(trace.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4Test, GetVanillaQueryOrderKeyCase) {
  SignableRequest request = Vanilla("GET");
  request.query = "Param2=value2&Param1=value1";
  SigningTrace trace = SignRequest(&request, kSuite, "us-east-1", "service", kDate);
  EXPECT_EQ(trace.canonical_request,
            "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\n" +
                std::string(kEmptySha));
  EXPECT_EQ(trace.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Test, PostXWwwFormUrlencoded) {
  SignableRequest request = Vanilla("POST");
  request.headers.insert(request.headers.begin(), {"Content-Type", "application/x-www-form-urlencoded"});
  request.payload = "Param1=value1";
  SigningTrace trace = SignRequest(&request, kSuite, "us-east-1", "service", kDate);
  EXPECT_EQ(Sha256Hex(request.payload), "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(trace.canonical_request,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(trace.authorization, Authorization("content-type;host;x-amz-date",
                                               "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"));
}

TEST(SigV4Test, GetHeaderValueTrim) {
  SignableRequest request;
  request.method = "GET";
  request.headers = {{"Host", "example.amazonaws.com"},
                     {"My-Header1", " value1"},
                     {"My-Header2", " \"a   b   c\""},
                     {"X-Amz-Date", kDate}};
  SigningTrace trace = SignRequest(&request, kSuite, "us-east-1", "service", kDate);
  EXPECT_EQ(trace.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
            "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" +
                std::string(kEmptySha));
  EXPECT_EQ(trace.signature, "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}

TEST(SigV4Test, GetVanillaWithSessionToken) {
  SigningCredentials temporary = kSuite;
  temporary.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  SignableRequest request = Vanilla("GET");
  SigningTrace trace = SignRequest(&request, temporary, "us-east-1", "service", kDate);
  EXPECT_EQ(trace.signed_headers, "host;x-amz-date;x-amz-security-token");
  EXPECT_EQ(trace.signature, "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
  bool has_token = false;
  for (const auto& [name, value] : request.headers) has_token |= name == "X-Amz-Security-Token" && value == temporary.session_token;
  EXPECT_TRUE(has_token);
}

TEST(SigV4Test, EncodingRules) {
  EXPECT_EQ(UriEncode("a b/c~d+e$\xc3\xa9", true), "a%20b/c~d%2Be%24%C3%A9");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(CanonicalQueryString("b=2&a=1&a=0&c"), "a=0&a=1&b=2&c=");
  EXPECT_EQ(CanonicalQueryString("k=a%20b&s=a+b"), "k=a%20b&s=a%2Bb");
  EXPECT_EQ(CanonicalUri(""), "/");
  EXPECT_EQ(CanonicalUri("/a b/%7E"), "/a%20b/~");
  EXPECT_EQ(CanonicalHeaderValue("  a \t b  "), "a b");
  EXPECT_EQ(AmzDate(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))), kDate);
  EXPECT_EQ(Md5Hex("aGVsbG8="), "0733351879b2fa9bd05c7ca3061529c0");  // as ElasticMQ reported it
}

TEST(SigV4Test, DuplicateHeaderNamesJoinWithCommas) {
  SignableRequest request = Vanilla("GET");
  request.headers.emplace_back("My-Header1", "value2");
  request.headers.emplace_back("my-header1", "value1");
  std::string signed_headers;
  std::string canonical = CanonicalRequest(request, &signed_headers);
  EXPECT_NE(canonical.find("my-header1:value2,value1\n"), std::string::npos);
  EXPECT_EQ(signed_headers, "host;my-header1;x-amz-date");
}

}  // namespace
}  // namespace wal::queue::sqs
