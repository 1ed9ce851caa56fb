#include "queue/sqs/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace wal::queue::sqs {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string Credentials::Describe() const {
  std::string id = keys.access_key_id.size() > 4 ? keys.access_key_id.substr(0, 4) + "..." : "...";
  return "access key " + id + " from " + source + (keys.session_token.empty() ? "" : " (with session token)");
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<Credentials> ParseSharedCredentials(std::string_view text, std::string_view profile, std::string_view source) {
  Credentials credentials;
  credentials.source = std::string(source) + " [" + std::string(profile) + "]";
  bool in_profile = false;
  bool found = false;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return InvalidArgument(std::string(source) + ": line " + std::to_string(line_number) +
                               ": malformed section header");
      }
      std::string_view name = Trim(line.substr(1, line.size() - 2));
      // ~/.aws/config writes "profile x"; the credentials file writes "x". Accept both.
      if (name.substr(0, 8) == "profile ") name = Trim(name.substr(8));
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = Trim(line.substr(0, eq));
    std::string value(Trim(line.substr(eq + 1)));
    if (key == "aws_access_key_id") credentials.keys.access_key_id = value;
    else if (key == "aws_secret_access_key") credentials.keys.secret_access_key = value;
    else if (key == "aws_session_token") credentials.keys.session_token = value;
  }
  if (!found) return NotFound(std::string(source) + ": no profile [" + std::string(profile) + "]");
  if (credentials.keys.access_key_id.empty() || credentials.keys.secret_access_key.empty()) {
    return InvalidArgument(std::string(source) + ": profile [" + std::string(profile) +
                           "] lacks aws_access_key_id or aws_secret_access_key");
  }
  return credentials;
}

Result<Credentials> LoadCredentials(const EnvLookup& env) {
  auto get = [&](const char* name) {
    auto value = env(name);
    return value.has_value() ? *value : std::string();
  };
  std::string id = get("AWS_ACCESS_KEY_ID");
  std::string secret = get("AWS_SECRET_ACCESS_KEY");
  if (!id.empty() || !secret.empty()) {
    if (id.empty() || secret.empty()) {
      return InvalidArgument(std::string("AWS credentials from the environment: ") +
                             (id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
                             " is not set while the other one is");
    }
    Credentials credentials;
    credentials.keys = {id, secret, get("AWS_SESSION_TOKEN")};
    credentials.source = "environment";
    return credentials;
  }
  std::string path = get("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    std::string home = get("HOME");
    if (!home.empty()) path = home + "/.aws/credentials";
  }
  std::string profile = get("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string looked = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set";
  if (!path.empty()) {
    std::ifstream in(path);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      auto parsed = ParseSharedCredentials(text.str(), profile, path);
      if (parsed.ok() || parsed.status().code() != StatusCode::kNotFound) return parsed;
      looked += " and " + parsed.status().message();
    } else {
      looked += " and " + path + " does not exist";
    }
  }
  return Status(StatusCode::kUnauthenticated, "no AWS credentials: " + looked);
}

}  // namespace wal::queue::sqs
