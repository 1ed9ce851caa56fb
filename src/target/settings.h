// Reads a target's settings object (TargetConfig::settings_json) for the
// target factories, with the same conventions as the config layer: every error
// is kInvalidArgument "target.<key>: <reason>", absent or null keys take their
// default, integers may arrive as JSON numbers or decimal strings (YAML and
// protobuf Struct both produce those), durations as "250ms"/"5s" text or
// integer milliseconds, and unknown keys are errors so typos fail loudly.
//
// Internal to wal_target; nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wal::target {

// A "host:port" split into its parts.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// Parses "host:port" (port 1..65535, host non-empty; "[v6]:port" accepted).
// `field` names the setting in the error.
Result<HostPort> ParseHostPort(std::string_view text, std::string_view field);

class Settings {
 public:
  // Parses `json_text`, which must be a JSON object.
  static Result<Settings> Parse(std::string_view json_text);

  ~Settings();
  Settings(Settings&&) noexcept;
  Settings& operator=(Settings&&) noexcept;

  // Each getter marks `key` as known, present or not.
  Result<std::string> RequiredString(std::string_view key);
  Result<std::string> OptionalString(std::string_view key, std::string default_value);
  // true/false, or the strings "true"/"false".
  Result<bool> OptionalBool(std::string_view key, bool default_value);
  Result<int64_t> OptionalInteger(std::string_view key, int64_t default_value, int64_t min, int64_t max);
  // A duration > 0.
  Result<std::chrono::milliseconds> OptionalDuration(std::string_view key, std::chrono::milliseconds default_value);
  Result<std::vector<std::string>> RequiredStringList(std::string_view key);
  Result<std::map<std::string, std::string>> OptionalStringMap(std::string_view key);

  // Fails naming the first key no getter asked for. Call after all getters.
  Status RejectUnknownKeys() const;

 private:
  struct Impl;
  explicit Settings(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "target.<key>: <reason>" as kInvalidArgument.
Status SettingError(std::string_view key, std::string_view reason);

}  // namespace wal::target
