// Where the SQS client gets its AWS credentials, in the order the AWS CLI and
// SDKs use for the two sources we support:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
//   2. the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else
//      $HOME/.aws/credentials; profile AWS_PROFILE, else "default"
//      (aws_access_key_id, aws_secret_access_key, aws_session_token).
// Instance/container roles (IMDS, ECS) and SSO are not supported.
//
// Secrets never appear in a Status message or a log line; `source` says where
// the credentials came from and Describe() shows the key id only.
//
// Threading: pure functions over the environment snapshot passed in.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "queue/sqs/sigv4.h"

namespace wal::queue::sqs {

struct Credentials {
  SigningCredentials keys;
  std::string source;  // "environment" or "<file> [profile]"
  // "AKID... from environment" — safe to log.
  std::string Describe() const;
};

// Reads an environment variable; nullopt when unset. Tests pass a map.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// The chain above. kUnauthenticated with a message naming every place looked
// at when nothing is found; kInvalidArgument for a half-set environment or a
// profile missing a key.
Result<Credentials> LoadCredentials(const EnvLookup& env);

// Parses the INI-style shared credentials file text and returns `profile`.
// `source` names the file in messages. kNotFound when the profile is absent.
Result<Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile,
                                           std::string_view source);

}  // namespace wal::queue::sqs
