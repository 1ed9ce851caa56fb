// The one strict reader of config objects: every section of a namespace or
// server config, and every backend's, target's and set store's settings, is
// read through it, so all of them accept the same value forms and report
// errors the same way.
//
// Conventions (docs/configuration.md, "Value types"):
//   - Errors are kInvalidArgument "<field.path>: <reason>" (FieldError).
//   - Absent and null fields take their default (the reader leaves `out` as is).
//   - Scalars accept their natural JSON type and also a string holding it,
//     because YAML scalars in the schema arrive as strings, and integers also
//     accept integral floats, because protobuf Struct carries every number as
//     a double.
//   - Fields no reader asked for are errors, with "did you mean" for near
//     misses (ObjectReader::RejectUnknownFields).
//
// Threading: values and pure functions. Nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/host_port.h"
#include "common/status.h"
#include "config/yaml_json.h"

namespace wal::config {

using Milliseconds = std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// Messages

// "<path>: <reason>" as kInvalidArgument; an empty path reads "(document)".
Status FieldError(std::string_view path, std::string_view reason);
// JSON text of `value`; invalid UTF-8 from YAML is replaced, never thrown on.
std::string DumpJson(const Json& value, int indent = -1);
// A value as it appears in an error: its JSON text, shortened.
std::string Describe(const Json& value);
std::string Quoted(std::string_view text);
// "a, b or c".
std::string JoinAlternatives(const std::vector<std::string_view>& words);
bool EqualsIgnoringCase(std::string_view a, std::string_view b);
// The candidate nearest to `word` within two edits, or "" when none is that close.
std::string_view NearestMatch(std::string_view word, const std::vector<std::string_view>& candidates);

// ---------------------------------------------------------------------------
// Typed readers of one value at `path`.

Status Read(const Json& value, const std::string& path, std::string* out);
Status Read(const Json& value, const std::string& path, bool* out);
Status Read(const Json& value, const std::string& path, int* out);
Status Read(const Json& value, const std::string& path, int64_t* out);
Status Read(const Json& value, const std::string& path, uint64_t* out);
Status Read(const Json& value, const std::string& path, double* out);
// A duration text ("250ms", "10s"; config/duration.h) or a number of milliseconds.
Status Read(const Json& value, const std::string& path, Milliseconds* out);
// "host:port" text (common/host_port.h).
Status Read(const Json& value, const std::string& path, HostPort* out);

// A mapping of strings. Non-string scalars are kept as their text (librdkafka
// properties are string-typed by their consumer) unless `scalars_as_text` is
// false, when they are errors (values that are secrets or protocol text).
Status ReadStringMap(const Json& value, const std::string& path, std::map<std::string, std::string>* out,
                     bool scalars_as_text);
Status Read(const Json& value, const std::string& path, std::map<std::string, std::string>* out);

template <typename Element>
Status Read(const Json& value, const std::string& path, std::vector<Element>* out) {
  if (!value.is_array()) return FieldError(path, "must be a list, got " + Describe(value));
  std::vector<Element> elements(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    WAL_RETURN_IF_ERROR(Read(value[i], path + "[" + std::to_string(i) + "]", &elements[i]));
  }
  *out = std::move(elements);
  return Status::Ok();
}

// An enum spelled by name, matched ignoring case so reference-style "KAFKA"
// works. The first name of a value is its canonical spelling.
template <typename Enum>
struct EnumName {
  std::string_view name;
  Enum value;
};

template <typename Enum, size_t N>
Status ReadEnum(const Json& value, const std::string& path, const EnumName<Enum> (&names)[N], Enum* out) {
  std::string text;
  WAL_RETURN_IF_ERROR(Read(value, path, &text));
  std::vector<std::string_view> accepted;
  for (const auto& entry : names) {
    if (EqualsIgnoringCase(entry.name, text)) {
      *out = entry.value;
      return Status::Ok();
    }
    accepted.push_back(entry.name);
  }
  return FieldError(path, "must be one of " + JoinAlternatives(accepted) + ", got " + Describe(value));
}

template <typename Enum, size_t N>
std::string_view EnumNameOf(Enum value, const EnumName<Enum> (&names)[N]) {
  for (const auto& entry : names) {
    if (entry.value == value) return entry.name;
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// ObjectReader: reads the fields of one JSON object and remembers which were
// asked for, so whatever is left over can be reported as unknown.

class ObjectReader {
 public:
  // `value` must be an object; null (an empty YAML mapping) reads as {}.
  static Result<ObjectReader> Open(const Json& value, std::string path);

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const;

  // The value of `key`, or nullptr when absent or null (null means "use the
  // default"). Marks `key` as known either way.
  const Json* Take(std::string_view key);

  // Reads `key` into `out` if present; leaves `out` (the default) otherwise.
  template <typename T>
  Status Field(std::string_view key, T* out) {
    const Json* value = Take(key);
    return value == nullptr ? Status::Ok() : Read(*value, PathOf(key), out);
  }

  // Like Field for a string or list that, when given, must not be empty
  // (absent stays empty, for the validator to call required).
  template <typename T>
  Status NonEmptyField(std::string_view key, T* out) {
    WAL_RETURN_IF_ERROR(Field(key, out));
    if (out->empty() && Take(key) != nullptr) return FieldError(PathOf(key), "must not be empty");
    return Status::Ok();
  }

  // Like Field, but the value may also be given under a reference-style `alias`
  // (setting both is an error).
  template <typename T>
  Status FieldWithAlias(std::string_view key, std::string_view alias, T* out) {
    const Json* value = nullptr;
    std::string path;
    WAL_RETURN_IF_ERROR(TakeWithAlias(key, alias, &value, &path));
    return value == nullptr ? Status::Ok() : Read(*value, path, out);
  }

  // The value of `key` or of its `alias`, and the path it was found at.
  Status TakeWithAlias(std::string_view key, std::string_view alias, const Json** value, std::string* path);

  // Keys asked for so far, sorted.
  std::vector<std::string_view> KnownKeys() const;
  // The fields no Take() asked for, in document order.
  std::vector<std::string> UnknownKeys() const;
  // True when the object holds a field no Take() asked for.
  bool HasUnknownFields() const { return !UnknownKeys().empty(); }

  // Reports the first field that no Take() asked for, suggesting a close match.
  // `explain`, when given, may supply the reason for a key instead (e.g. "is set
  // but durable_storage.type is 'local'"); an empty answer keeps the default.
  Status RejectUnknownFields(const std::function<std::string(std::string_view key)>& explain = {}) const;

 private:
  ObjectReader(const Json* object, std::string path) : object_(object), path_(std::move(path)) {}

  const Json* object_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

// Opens the sub-object `key` of `parent` (absent reads as {}).
Result<ObjectReader> OpenChild(ObjectReader& parent, std::string_view key);

// ---------------------------------------------------------------------------
// Value checks shared by the validators; each returns a FieldError naming `path`.

template <typename Number>
Status CheckRange(std::string_view path, Number value, Number min, Number max) {
  if (value >= min && value <= max) return Status::Ok();
  return FieldError(path, "must be in " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                              std::to_string(value));
}
Status CheckDurationRange(std::string_view path, Milliseconds value, Milliseconds min, Milliseconds max);
Status CheckNotNegative(std::string_view path, Milliseconds value);  // >= 0s
Status CheckPositive(std::string_view path, Milliseconds value);     // > 0s
// "<path>: required for <whose>" when `value` is empty; `whose` is e.g. "target type 'sqlite'".
Status CheckRequired(std::string_view path, std::string_view value, std::string_view whose);
// host:port (common/host_port.h).
Status CheckHostPort(std::string_view path, std::string_view text);
bool IsHttpUrl(std::string_view url);
// Queue and topic names: what Kafka and SQS both accept (1..249 of [A-Za-z0-9._-]).
bool IsQueueName(std::string_view name);
// Each name IsQueueName; elements are reported as path[i].
Status CheckQueueNames(std::string_view path, const std::vector<std::string>& names);

}  // namespace wal::config
