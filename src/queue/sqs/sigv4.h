// AWS Signature Version 4 for HTTP requests signed in the Authorization header.
//
// Implements the canonical request, string to sign, signing-key derivation and
// Authorization header as AWS specifies them. The path signed is the wire path
// (see CanonicalUri()). Presigned URLs (query signing) and chunked payloads are
// not needed by SQS and not provided.
//
// Threading: pure functions; call from any thread. Nothing here logs, and no
// function returns the secret key.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wal::queue::sqs {

struct SigningCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// One HTTP request as the signer sees it. `path` is the URL path as it goes on
// the wire (percent-encoded where needed); `query` is the raw query string
// without '?'. Header names may be in any case; duplicates are allowed.
struct SignableRequest {
  std::string method = "POST";
  std::string path = "/";
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;
};

// Everything the signer computed, for tests and debugging (never logs the key).
struct SigningTrace {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;
  std::string signature;
  std::string authorization;
};

// Lowercase hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
// Raw HMAC-SHA256(key, data) (32 bytes).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);
// Lowercase hex MD5(data), as SQS reports MD5OfMessageBody.
std::string Md5Hex(std::string_view data);

// RFC 3986 percent-encoding with AWS's rules: unreserved A-Z a-z 0-9 - _ . ~
// stay, everything else becomes %XX (uppercase hex); '/' stays when
// `keep_slash`.
std::string UriEncode(std::string_view value, bool keep_slash);
// Decodes %XX sequences (and leaves malformed ones as they are).
std::string UriDecode(std::string_view value);

// Canonical URI: each segment of `path` decoded then re-encoded (so "/a b" and
// "/a%20b" sign the same); an empty path is "/". No dot-segment normalisation
// (SQS signs "/" only).
std::string CanonicalUri(std::string_view path);
// Canonical query: parameters decoded then re-encoded, sorted by name then
// value, joined with '&'; a parameter without '=' gets an empty value.
std::string CanonicalQueryString(std::string_view query);
// Canonical header value: leading/trailing whitespace trimmed and inner runs of
// whitespace collapsed to one space.
std::string CanonicalHeaderValue(std::string_view value);

// "20150830T123600Z" for `time` (UTC).
std::string AmzDate(std::chrono::system_clock::time_point time);

// The canonical request of `request` over all its headers (lowercased, sorted;
// duplicate names joined with ','), and the signed-headers list.
std::string CanonicalRequest(const SignableRequest& request, std::string* signed_headers);
std::string StringToSign(std::string_view amz_date, std::string_view credential_scope,
                         std::string_view canonical_request);
// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
std::string SigningKey(std::string_view secret_access_key, std::string_view date,
                       std::string_view region, std::string_view service);

// Signs `request` in place: adds X-Amz-Date (= amz_date, unless already
// present), X-Amz-Security-Token when the credentials carry a session token,
// then Authorization. Every header present (including Host, which the caller
// must add) is signed. Returns the intermediate values.
SigningTrace SignRequest(SignableRequest* request, const SigningCredentials& credentials,
                         std::string_view region, std::string_view service, std::string_view amz_date);

}  // namespace wal::queue::sqs
