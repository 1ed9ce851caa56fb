// The config decoder, validator and saver.
//
// Pipeline: text -> JSON tree (yaml_json.h) -> Decode* (types, unknown fields,
// aliases, defaults) -> Validate* (ranges and cross-field rules) -> struct.
// Saving runs Encode* -> JSON tree -> text, so both formats share one schema.
// Errors are built as "<field.path>: <reason>" and the public entry points
// prefix "<source>: ".
#include "config/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "common/sql_identifier.h"
#include "config/duration.h"
#include "config/yaml_json.h"

namespace wal::config {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr int64_t kSecondMs = 1000;
constexpr int64_t kMinuteMs = 60 * kSecondMs;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;

// Subtrees whose YAML scalars are typed the YAML way rather than by the schema:
// a target's settings are free-form and kept as JSON, so `port: 80` must stay a number.
// "targets.*" covers every named target under `targets`.
const std::set<std::string> kNamespaceFreeFormPaths = {"target", "targets.*"};

// ---------------------------------------------------------------------------
// Error helpers

Status FieldError(std::string_view path, std::string_view reason) {
  std::string message(path.empty() ? "(document)" : path);
  message += ": ";
  message += reason;
  return InvalidArgument(std::move(message));
}

Status WithSource(const Status& status, std::string_view source) {
  return source.empty() ? status : status.WithContext(source);
}

// JSON text of `value`. YAML input may hold invalid UTF-8, on which a plain
// dump() throws; replace such bytes instead (U+FFFD).
std::string DumpJson(const Json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::detail::error_handler_t::replace);
}

// A value as it appears in an error: its JSON text, shortened.
std::string Describe(const Json& value) {
  std::string text = DumpJson(value);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string Join(const std::vector<std::string_view>& words) {
  std::string joined;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) joined += i + 1 == words.size() ? " or " : ", ";
    joined += words[i];
  }
  return joined;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// ---------------------------------------------------------------------------
// Scalar readers. Each accepts the value's natural JSON type and also a string
// holding it, because YAML scalars in schema regions arrive as strings.

Status Read(const Json& value, const std::string& path, std::string* out) {
  if (!value.is_string()) return FieldError(path, "must be a string, got " + Describe(value));
  *out = value.get<std::string>();
  return Status::Ok();
}

Status Read(const Json& value, const std::string& path, bool* out) {
  if (value.is_boolean()) {
    *out = value.get<bool>();
    return Status::Ok();
  }
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text == "true" || text == "True" || text == "TRUE") return *out = true, Status::Ok();
    if (text == "false" || text == "False" || text == "FALSE") return *out = false, Status::Ok();
  }
  return FieldError(path, "must be true or false, got " + Describe(value));
}

// Integers of any width: JSON integers, integral floats (protobuf Struct carries
// every number as a double) and decimal strings.
template <typename Integer>
Status ReadInteger(const Json& value, const std::string& path, Integer* out) {
  constexpr Integer kMin = std::numeric_limits<Integer>::min();
  constexpr Integer kMax = std::numeric_limits<Integer>::max();
  auto out_of_range = [&] {
    return FieldError(path, "must be in " + std::to_string(kMin) + ".." + std::to_string(kMax) + ", got " +
                                Describe(value));
  };
  if (value.is_number_unsigned()) {
    uint64_t number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(kMax)) return out_of_range();
    *out = static_cast<Integer>(number);
    return Status::Ok();
  }
  if (value.is_number_integer()) {
    int64_t number = value.get<int64_t>();
    if (number < static_cast<int64_t>(kMin) || (number >= 0 && static_cast<uint64_t>(number) > static_cast<uint64_t>(kMax))) {
      return out_of_range();
    }
    *out = static_cast<Integer>(number);
    return Status::Ok();
  }
  if (value.is_number_float()) {
    double number = value.get<double>();
    if (std::isfinite(number) && std::trunc(number) == number) {
      if (number < static_cast<double>(kMin) || number > static_cast<double>(kMax)) return out_of_range();
      *out = static_cast<Integer>(number);
      return Status::Ok();
    }
  }
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    Integer number{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!text.empty() && end == text.data() + text.size()) {
      if (error == std::errc::result_out_of_range) return out_of_range();
      if (error == std::errc()) {
        *out = number;
        return Status::Ok();
      }
    }
  }
  return FieldError(path, "must be an integer, got " + Describe(value));
}

Status Read(const Json& value, const std::string& path, int* out) { return ReadInteger(value, path, out); }
Status Read(const Json& value, const std::string& path, uint64_t* out) { return ReadInteger(value, path, out); }

Status Read(const Json& value, const std::string& path, double* out) {
  if (value.is_number()) {
    *out = value.get<double>();
    return Status::Ok();
  }
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    double number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (!text.empty() && error == std::errc() && end == text.data() + text.size() && std::isfinite(number)) {
      *out = number;
      return Status::Ok();
    }
  }
  return FieldError(path, "must be a number, got " + Describe(value));
}

Status Read(const Json& value, const std::string& path, Milliseconds* out) {
  if (value.is_number_integer()) {
    int64_t milliseconds = 0;
    WAL_RETURN_IF_ERROR(ReadInteger(value, path, &milliseconds));
    *out = Milliseconds(milliseconds);
    return Status::Ok();
  }
  if (value.is_string()) {
    auto parsed = ParseDuration(value.get_ref<const std::string&>());
    if (!parsed.ok()) return FieldError(path, parsed.status().message());
    *out = parsed.value();
    return Status::Ok();
  }
  return FieldError(path, "must be a duration such as \"10s\" or an integer number of milliseconds, got " +
                              Describe(value));
}

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

// A map of strings. Scalar values of other types are kept as their text, since
// these maps (e.g. librdkafka properties) are string-typed by the consumer.
Status Read(const Json& value, const std::string& path, std::map<std::string, std::string>* out) {
  if (!value.is_object()) return FieldError(path, "must be a mapping, got " + Describe(value));
  std::map<std::string, std::string> entries;
  for (const auto& [key, element] : value.items()) {
    if (element.is_string()) {
      entries[key] = element.get<std::string>();
    } else if (element.is_number() || element.is_boolean()) {
      entries[key] = DumpJson(element);
    } else {
      return FieldError(path + "." + key, "must be a string, got " + Describe(element));
    }
  }
  *out = std::move(entries);
  return Status::Ok();
}

// An enum spelled by name. Matching ignores case so reference-style "KAFKA" works.
template <typename Enum>
struct EnumName {
  std::string_view name;
  Enum value;
};

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

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
  return FieldError(path, "must be one of " + Join(accepted) + ", got " + Describe(value));
}

// The first name of each enum value is its canonical spelling; later ones are aliases.
constexpr EnumName<BackendType> kBackendNames[] = {
    {"local", BackendType::kLocal}, {"kafka", BackendType::kKafka}, {"sqs", BackendType::kSqs}};
constexpr EnumName<TargetType> kTargetNames[] = {
    {"sqlite", TargetType::kSqlite},       {"memcached", TargetType::kMemcached},
    {"redis", TargetType::kRedis},         {"postgres", TargetType::kPostgres},
    {"kafka", TargetType::kKafka},         {"http", TargetType::kHttp},
    {"replication", TargetType::kReplication}, {"none", TargetType::kNone},
    {"evc-replication", TargetType::kReplication}};
constexpr EnumName<DurableStorageType> kDurableStorageNames[] = {{"local", DurableStorageType::kLocal},
                                                                 {"postgres", DurableStorageType::kPostgres}};
constexpr EnumName<JitterModel> kJitterNames[] = {{"none", JitterModel::kNone},
                                                  {"full", JitterModel::kFull},
                                                  {"equal", JitterModel::kEqual},
                                                  {"plus_minus", JitterModel::kPlusMinus}};

Status Read(const Json& value, const std::string& path, BackendType* out) {
  return ReadEnum(value, path, kBackendNames, out);
}
Status Read(const Json& value, const std::string& path, TargetType* out) {
  return ReadEnum(value, path, kTargetNames, out);
}
Status Read(const Json& value, const std::string& path, JitterModel* out) {
  return ReadEnum(value, path, kJitterNames, out);
}
Status Read(const Json& value, const std::string& path, DurableStorageType* out) {
  return ReadEnum(value, path, kDurableStorageNames, out);
}

// ---------------------------------------------------------------------------
// ObjectReader: reads the fields of one JSON object and remembers which were
// read, so whatever is left over can be reported as unknown.

class ObjectReader {
 public:
  // `value` must be an object; null (an empty YAML mapping) reads as {}.
  static Result<ObjectReader> Open(const Json& value, std::string path) {
    if (value.is_null()) return ObjectReader(nullptr, std::move(path));
    if (!value.is_object()) return FieldError(path, "must be a mapping of fields, got " + Describe(value));
    return ObjectReader(&value, std::move(path));
  }

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  // The value of `key`, or nullptr when absent or null (null means "use the default").
  const Json* Take(std::string_view key) {
    known_.emplace(key);
    if (object_ == nullptr) return nullptr;
    auto found = object_->find(std::string(key));
    if (found == object_->end() || found->is_null()) return nullptr;
    return &*found;
  }

  // Reads `key` into `out` if present; leaves `out` (the default) otherwise.
  template <typename T>
  Status Field(std::string_view key, T* out) {
    const Json* value = Take(key);
    return value == nullptr ? Status::Ok() : Read(*value, PathOf(key), out);
  }

  // Like Field, but the value may also be given under a reference-style `alias`.
  template <typename T>
  Status FieldWithAlias(std::string_view key, std::string_view alias, T* out) {
    const Json* canonical = Take(key);
    const Json* aliased = Take(alias);
    if (canonical != nullptr && aliased != nullptr) {
      return FieldError(PathOf(alias), "is an alias of " + Quoted(key) + "; set only one of them");
    }
    if (canonical != nullptr) return Read(*canonical, PathOf(key), out);
    if (aliased != nullptr) return Read(*aliased, PathOf(alias), out);
    return Status::Ok();
  }

  // Reports the first field that no Take() asked for, suggesting a close match.
  Status RejectUnknownFields() const {
    if (object_ == nullptr) return Status::Ok();
    for (const auto& [key, value] : object_->items()) {
      if (known_.contains(key)) continue;
      std::string reason = "unknown field " + Quoted(key);
      std::string_view closest;
      size_t closest_distance = 3;  // suggest only near misses
      for (const std::string& candidate : known_) {
        size_t distance = EditDistance(key, candidate);
        if (distance < closest_distance) closest = candidate, closest_distance = distance;
      }
      if (!closest.empty()) reason += " (did you mean " + Quoted(closest) + "?)";
      return FieldError(PathOf(key), reason);
    }
    return Status::Ok();
  }

  // The fields no Take() asked for, in document order (a target's settings).
  Json Remaining() const {
    Json remaining = Json::object();
    if (object_ == nullptr) return remaining;
    for (const auto& [key, value] : object_->items()) {
      if (!known_.contains(key)) remaining[key] = value;
    }
    return remaining;
  }

 private:
  ObjectReader(const Json* object, std::string path) : object_(object), path_(std::move(path)) {}

  const Json* object_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

// Opens the sub-object `key` of `parent` (absent reads as {}).
Result<ObjectReader> OpenChild(ObjectReader& parent, std::string_view key) {
  const Json* value = parent.Take(key);
  static const Json kAbsent;
  return ObjectReader::Open(value == nullptr ? kAbsent : *value, parent.PathOf(key));
}

// ---------------------------------------------------------------------------
// Value checks shared by the validators.

bool IsNamespaceName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '_' || c == '.' || c == '-'; });
}

// Queue and topic names: what Kafka and SQS both accept.
bool IsQueueName(std::string_view name) {
  if (name.empty() || name.size() > 249) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool IsHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.find_first_of(" \t/") != std::string_view::npos) return false;
  if (host.front() == '[' && host.back() != ']') return false;
  int port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  return error == std::errc() && end == port_text.data() + port_text.size() && port >= 1 && port <= 65535;
}

bool IsHttpUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.starts_with(scheme) && url.size() > scheme.size() && url[scheme.size()] != '/') return true;
  }
  return false;
}

template <typename Number>
Status CheckRange(std::string_view path, Number value, Number min, Number max) {
  if (value >= min && value <= max) return Status::Ok();
  return FieldError(path, "must be in " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                              std::to_string(value));
}

Status CheckDurationRange(std::string_view path, Milliseconds value, Milliseconds min, Milliseconds max) {
  if (value >= min && value <= max) return Status::Ok();
  return FieldError(path, "must be in " + FormatDuration(min) + ".." + FormatDuration(max) + ", got " +
                              FormatDuration(value));
}

Status CheckNotNegative(std::string_view path, Milliseconds value) {
  if (value.count() >= 0) return Status::Ok();
  return FieldError(path, "must be >= 0s, got " + FormatDuration(value));
}

Status CheckQueueNames(std::string_view path, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (!IsQueueName(names[i])) {
      return FieldError(std::string(path) + "[" + std::to_string(i) + "]",
                        "must be 1..249 characters of [A-Za-z0-9._-], got " + Quoted(names[i]));
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Namespace decoding

Status DecodeLocalBackend(ObjectReader& reader, LocalBackendConfig* out) {
  WAL_RETURN_IF_ERROR(reader.Field("segment_bytes", &out->segment_bytes));
  WAL_RETURN_IF_ERROR(reader.Field("preallocate", &out->preallocate));
  return reader.RejectUnknownFields();
}

Status DecodeKafkaBackend(ObjectReader& reader, KafkaBackendConfig* out) {
  WAL_RETURN_IF_ERROR(reader.Field("bootstrap_servers", &out->bootstrap_servers));
  WAL_RETURN_IF_ERROR(reader.FieldWithAlias("topics", "wal-kafka-topics", &out->topics));
  WAL_RETURN_IF_ERROR(reader.FieldWithAlias("dlq_topics", "wal-kafka-dlq-topics", &out->dlq_topics));
  WAL_RETURN_IF_ERROR(reader.Field("consumer_group", &out->consumer_group));
  WAL_RETURN_IF_ERROR(reader.Field("delay_tiers", &out->delay_tiers));
  WAL_RETURN_IF_ERROR(reader.Field("properties", &out->properties));
  return reader.RejectUnknownFields();
}

// The reference system writes `wal-queue: [name]`: accept a string or a
// one-element list.
Status ReadQueueName(ObjectReader& reader, std::string_view key, std::string_view alias, std::string* out) {
  const Json* canonical = reader.Take(key);
  const Json* aliased = reader.Take(alias);
  if (canonical != nullptr && aliased != nullptr) {
    return FieldError(reader.PathOf(alias), "is an alias of " + Quoted(key) + "; set only one of them");
  }
  const Json* value = canonical != nullptr ? canonical : aliased;
  if (value == nullptr) return Status::Ok();
  std::string path = reader.PathOf(canonical != nullptr ? key : alias);
  if (value->is_array()) {
    if (value->size() != 1) return FieldError(path, "must name exactly one queue, got " + Describe(*value));
    return Read((*value)[0], path + "[0]", out);
  }
  return Read(*value, path, out);
}

Status DecodeSqsBackend(ObjectReader& reader, SqsBackendConfig* out) {
  WAL_RETURN_IF_ERROR(ReadQueueName(reader, "queue", "wal-queue", &out->queue));
  WAL_RETURN_IF_ERROR(ReadQueueName(reader, "dlq_queue", "wal-dlq-queue", &out->dlq_queue));
  WAL_RETURN_IF_ERROR(reader.Field("region", &out->region));
  WAL_RETURN_IF_ERROR(reader.Field("endpoint", &out->endpoint));

  // The reference alias counts whole seconds, so it cannot share the duration reader.
  const Json* poll_interval = reader.Take("poll_interval");
  const Json* poll_seconds = reader.Take("queue.poll-interval.secs");
  if (poll_interval != nullptr && poll_seconds != nullptr) {
    return FieldError(reader.PathOf("queue.poll-interval.secs"),
                      "is an alias of 'poll_interval' (in seconds); set only one of them");
  }
  if (poll_interval != nullptr) WAL_RETURN_IF_ERROR(Read(*poll_interval, reader.PathOf("poll_interval"), &out->poll_interval));
  if (poll_seconds != nullptr) {
    int seconds = 0;
    WAL_RETURN_IF_ERROR(Read(*poll_seconds, reader.PathOf("queue.poll-interval.secs"), &seconds));
    out->poll_interval = Milliseconds(int64_t{seconds} * kSecondMs);
  }

  WAL_RETURN_IF_ERROR(
      reader.FieldWithAlias("max_messages_per_poll", "queue.max-messages-per-poll", &out->max_messages_per_poll));
  WAL_RETURN_IF_ERROR(reader.Field("max_delay_hop", &out->max_delay_hop));
  return reader.RejectUnknownFields();
}

Status DecodeBackend(ObjectReader& reader, BackendConfig* out) {
  WAL_RETURN_IF_ERROR(reader.Field("type", &out->type));
  // Only the block of the chosen type may appear: a kafka block under a local
  // backend is almost certainly a mistake (a forgotten `type: kafka`).
  struct Block {
    std::string_view key;
    BackendType type;
  };
  for (Block block : {Block{"local", BackendType::kLocal}, Block{"kafka", BackendType::kKafka},
                      Block{"sqs", BackendType::kSqs}}) {
    WAL_ASSIGN_OR_RETURN(ObjectReader child, OpenChild(reader, block.key));
    if (block.type != out->type) {
      // An absent or empty block of another type is harmless.
      if (!child.Remaining().empty()) {
        return FieldError(child.path(), "is set but backend.type is " + Quoted(BackendTypeName(out->type)));
      }
      continue;
    }
    switch (block.type) {
      case BackendType::kLocal: WAL_RETURN_IF_ERROR(DecodeLocalBackend(child, &out->local)); break;
      case BackendType::kKafka: WAL_RETURN_IF_ERROR(DecodeKafkaBackend(child, &out->kafka)); break;
      case BackendType::kSqs: WAL_RETURN_IF_ERROR(DecodeSqsBackend(child, &out->sqs)); break;
    }
  }
  return reader.RejectUnknownFields();
}

Status DecodeTarget(ObjectReader& reader, TargetConfig* out) {
  const Json* type = reader.Take("type");
  if (type == nullptr) {
    if (!reader.Remaining().empty()) return FieldError(reader.PathOf("type"), "required when target settings are given");
    return Status::Ok();  // no target block: kNone
  }
  WAL_RETURN_IF_ERROR(Read(*type, reader.PathOf("type"), &out->type));
  out->settings_json = DumpJson(reader.Remaining());
  return Status::Ok();
}

// access: {tokens: [{name, sha256, scopes: [write, read, admin]}]}
Status DecodeAccess(ObjectReader& document, AccessConfig* out) {
  WAL_ASSIGN_OR_RETURN(ObjectReader access, OpenChild(document, "access"));
  if (const Json* tokens = access.Take("tokens")) {
    const std::string path = access.PathOf("tokens");
    if (!tokens->is_array()) return FieldError(path, "must be a list of {name, sha256, scopes}, got " + Describe(*tokens));
    for (size_t i = 0; i < tokens->size(); ++i) {
      WAL_ASSIGN_OR_RETURN(ObjectReader token, ObjectReader::Open((*tokens)[i], path + "[" + std::to_string(i) + "]"));
      AccessToken& decoded = out->tokens.emplace_back();
      WAL_RETURN_IF_ERROR(token.Field("name", &decoded.name));
      WAL_RETURN_IF_ERROR(token.Field("sha256", &decoded.sha256));
      WAL_RETURN_IF_ERROR(token.Field("scopes", &decoded.scopes));
      WAL_RETURN_IF_ERROR(token.RejectUnknownFields());
    }
  }
  return access.RejectUnknownFields();
}

Status DecodeNamespace(const Json& root, NamespaceConfig* out) {
  WAL_ASSIGN_OR_RETURN(ObjectReader document, ObjectReader::Open(root, ""));
  if (document.Take("name") == nullptr) return FieldError("name", "required");
  WAL_RETURN_IF_ERROR(document.Field("name", &out->name));

  {
    WAL_ASSIGN_OR_RETURN(ObjectReader backend, OpenChild(document, "backend"));
    WAL_RETURN_IF_ERROR(DecodeBackend(backend, &out->backend));
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader dlq, OpenChild(document, "dlq"));
    WAL_RETURN_IF_ERROR(dlq.Field("name", &out->dlq.name));
    WAL_RETURN_IF_ERROR(dlq.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader delay, OpenChild(document, "delay"));
    WAL_RETURN_IF_ERROR(delay.Field("default", &out->delay.default_delay));
    WAL_RETURN_IF_ERROR(delay.Field("jitter", &out->delay.jitter));
    WAL_RETURN_IF_ERROR(delay.Field("jitter_model", &out->delay.jitter_model));
    WAL_RETURN_IF_ERROR(delay.Field("max_delay", &out->delay.max_delay));
    WAL_RETURN_IF_ERROR(delay.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader backoff, OpenChild(document, "backoff"));
    WAL_RETURN_IF_ERROR(backoff.Field("initial", &out->backoff.initial));
    WAL_RETURN_IF_ERROR(backoff.Field("multiplier", &out->backoff.multiplier));
    WAL_RETURN_IF_ERROR(backoff.Field("max", &out->backoff.max));
    WAL_RETURN_IF_ERROR(backoff.Field("jitter", &out->backoff.jitter));
    WAL_RETURN_IF_ERROR(backoff.RejectUnknownFields());
  }
  WAL_RETURN_IF_ERROR(document.Field("max_retries", &out->max_retries));
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader target, OpenChild(document, "target"));
    WAL_RETURN_IF_ERROR(DecodeTarget(target, &out->target));
  }
  if (const Json* targets = document.Take("targets")) {
    if (!targets->is_object()) return FieldError("targets", "must map target names to targets, got " + Describe(*targets));
    for (const auto& [name, value] : targets->items()) {
      WAL_ASSIGN_OR_RETURN(ObjectReader target, ObjectReader::Open(value, "targets." + name));
      TargetConfig decoded;
      WAL_RETURN_IF_ERROR(DecodeTarget(target, &decoded));
      if (decoded.type == TargetType::kNone && value.is_object() && !value.contains("type")) {
        return FieldError("targets." + name + ".type", "required");
      }
      out->targets[name] = std::move(decoded);
    }
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader storage, OpenChild(document, "durable_storage"));
    DurableStorageConfig& ds = out->durable_storage;
    WAL_RETURN_IF_ERROR(storage.Field("type", &ds.type));
    WAL_RETURN_IF_ERROR(storage.Field("dsn", &ds.dsn));
    WAL_RETURN_IF_ERROR(storage.Field("table", &ds.table));
    WAL_RETURN_IF_ERROR(storage.Field("chunk_bytes", &ds.chunk_bytes));
    WAL_RETURN_IF_ERROR(storage.Field("max_set_bytes", &ds.max_set_bytes));
    WAL_RETURN_IF_ERROR(storage.Field("max_mutations", &ds.max_mutations));
    WAL_RETURN_IF_ERROR(storage.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader flags, OpenChild(document, "flags"));
    WAL_RETURN_IF_ERROR(flags.Field("wal_enabled", &out->flags.wal_enabled));
    WAL_RETURN_IF_ERROR(flags.Field("dlq_enabled", &out->flags.dlq_enabled));
    WAL_RETURN_IF_ERROR(flags.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader consumer, OpenChild(document, "consumer"));
    WAL_RETURN_IF_ERROR(consumer.Field("concurrency", &out->consumer.concurrency));
    WAL_RETURN_IF_ERROR(consumer.Field("poll_interval", &out->consumer.poll_interval));
    WAL_RETURN_IF_ERROR(consumer.Field("max_entries_per_poll", &out->consumer.max_entries_per_poll));
    WAL_RETURN_IF_ERROR(consumer.RejectUnknownFields());
  }
  WAL_RETURN_IF_ERROR(document.Field("max_payload_bytes", &out->max_payload_bytes));

  // Stored in seconds; written as a duration like the other time fields.
  Milliseconds idempotency_window(static_cast<int64_t>(out->idempotency_window_seconds) * kSecondMs);
  WAL_RETURN_IF_ERROR(document.Field("idempotency_window", &idempotency_window));
  if (idempotency_window.count() < kSecondMs || idempotency_window.count() > 30 * kDayMs) {
    return FieldError("idempotency_window", "must be in 1s..30d, got " + FormatDuration(idempotency_window));
  }
  if (idempotency_window.count() % kSecondMs != 0) {
    return FieldError("idempotency_window",
                      "must be a whole number of seconds, got " + FormatDuration(idempotency_window));
  }
  out->idempotency_window_seconds = static_cast<uint64_t>(idempotency_window.count() / kSecondMs);

  WAL_RETURN_IF_ERROR(DecodeAccess(document, &out->access));
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader limits, OpenChild(document, "limits"));
    WAL_RETURN_IF_ERROR(limits.Field("writes_per_second", &out->limits.writes_per_second));
    WAL_RETURN_IF_ERROR(limits.Field("burst", &out->limits.burst));
    WAL_RETURN_IF_ERROR(limits.Field("max_backlog", &out->limits.max_backlog));
    WAL_RETURN_IF_ERROR(limits.RejectUnknownFields());
  }

  return document.RejectUnknownFields();
}

// ---------------------------------------------------------------------------
// Namespace validation (over the struct, so the admin path shares it)

Status ValidateBackend(const NamespaceConfig& config) {
  const BackendConfig& backend = config.backend;
  switch (backend.type) {
    case BackendType::kLocal:
      return CheckRange<uint64_t>("backend.local.segment_bytes", backend.local.segment_bytes, 4096, 4096 * kMiB);

    case BackendType::kKafka: {
      const KafkaBackendConfig& kafka = backend.kafka;
      if (kafka.bootstrap_servers.empty()) {
        return FieldError("backend.kafka.bootstrap_servers", "required for backend type 'kafka'");
      }
      std::string_view servers = kafka.bootstrap_servers;
      while (!servers.empty()) {
        size_t comma = servers.find(',');
        std::string_view server = servers.substr(0, comma);
        if (!IsHostPort(server)) {
          return FieldError("backend.kafka.bootstrap_servers",
                            "must be host:port[,host:port...], got " + Quoted(kafka.bootstrap_servers));
        }
        servers = comma == std::string_view::npos ? std::string_view() : servers.substr(comma + 1);
      }
      if (kafka.topics.empty()) {
        return FieldError("backend.kafka.topics", "at least one topic is required for backend type 'kafka'");
      }
      WAL_RETURN_IF_ERROR(CheckQueueNames("backend.kafka.topics", kafka.topics));
      WAL_RETURN_IF_ERROR(CheckQueueNames("backend.kafka.dlq_topics", kafka.dlq_topics));
      if (kafka.consumer_group.empty()) return FieldError("backend.kafka.consumer_group", "must not be empty");
      for (size_t i = 0; i < kafka.delay_tiers.size(); ++i) {
        std::string path = "backend.kafka.delay_tiers[" + std::to_string(i) + "]";
        if (kafka.delay_tiers[i].count() <= 0) {
          return FieldError(path, "must be > 0s, got " + FormatDuration(kafka.delay_tiers[i]));
        }
        if (i > 0 && kafka.delay_tiers[i] <= kafka.delay_tiers[i - 1]) {
          return FieldError(path, "tiers must be in increasing order, got " + FormatDuration(kafka.delay_tiers[i]) +
                                      " after " + FormatDuration(kafka.delay_tiers[i - 1]));
        }
      }
      return Status::Ok();
    }

    case BackendType::kSqs: {
      const SqsBackendConfig& sqs = backend.sqs;
      if (sqs.queue.empty()) return FieldError("backend.sqs.queue", "required for backend type 'sqs'");
      if (sqs.region.empty()) return FieldError("backend.sqs.region", "must not be empty");
      if (!sqs.endpoint.empty() && !IsHttpUrl(sqs.endpoint)) {
        return FieldError("backend.sqs.endpoint", "must start with http:// or https://, got " + Quoted(sqs.endpoint));
      }
      WAL_RETURN_IF_ERROR(CheckDurationRange("backend.sqs.poll_interval", sqs.poll_interval, Milliseconds(0),
                                             Milliseconds(kHourMs)));
      // SQS returns at most 10 messages per ReceiveMessage call.
      WAL_RETURN_IF_ERROR(CheckRange("backend.sqs.max_messages_per_poll", sqs.max_messages_per_poll, 1, 10));
      // SQS caps DelaySeconds at 15 minutes; longer delays are made of hops.
      return CheckDurationRange("backend.sqs.max_delay_hop", sqs.max_delay_hop, Milliseconds(kSecondMs),
                                Milliseconds(15 * kMinuteMs));
    }
  }
  return Status::Ok();
}

// Target settings: only the keys every implementation of a type needs are
// checked here; the target's factory validates the rest.
Status ValidateTargetAt(const TargetConfig& target);

// Validates `target` and rewrites the "target" prefix of an error to `path`
// (named targets report "targets.<name>.<key>").
Status ValidateTarget(const TargetConfig& target, std::string_view path = "target") {
  Status status = ValidateTargetAt(target);
  if (status.ok() || path == "target") return status;
  std::string message = status.message();
  if (message.starts_with("target")) message = std::string(path) + message.substr(6);
  return InvalidArgument(std::move(message));
}

bool IsTargetName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) { return lower_or_digit(c) || c == '_' || c == '-'; });
}

// Config tables get suffixes appended ("_shard_map_changed", "_chunks").
bool IsConfigTableName(std::string_view name) { return IsSqlIdentifier(name, 48); }

Status ValidateDurableStorage(const DurableStorageConfig& storage) {
  if (storage.type == DurableStorageType::kPostgres) {
    if (storage.dsn.empty()) return FieldError("durable_storage.dsn", "required for durable_storage type 'postgres'");
    if (!IsConfigTableName(storage.table)) {
      return FieldError("durable_storage.table", "must match [A-Za-z_][A-Za-z0-9_]{0,47}, got " + Quoted(storage.table));
    }
  } else if (!storage.dsn.empty()) {
    return FieldError("durable_storage.dsn", "is set but durable_storage.type is 'local'");
  }
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("durable_storage.chunk_bytes", storage.chunk_bytes, 4096, 16 * kMiB));
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("durable_storage.max_set_bytes", storage.max_set_bytes, 1024, 256 * kMiB));
  return CheckRange("durable_storage.max_mutations", storage.max_mutations, 1, 100000);
}

Status ValidateTargetAt(const TargetConfig& target) {
  Json settings;
  try {
    settings = Json::parse(target.settings_json);
  } catch (const std::exception&) {
    return FieldError("target", "settings_json is not valid JSON: " + target.settings_json);
  }
  if (!settings.is_object()) return FieldError("target", "settings must be a mapping, got " + Describe(settings));
  std::string type_name(TargetTypeName(target.type));

  auto required = [&](std::string_view key) -> Result<const Json*> {
    auto found = settings.find(std::string(key));
    if (found == settings.end() || found->is_null()) {
      return FieldError("target." + std::string(key), "required for target type " + Quoted(type_name));
    }
    return &*found;
  };
  auto required_string = [&](std::string_view key, std::string* out) -> Status {
    WAL_ASSIGN_OR_RETURN(const Json* value, required(key));
    WAL_RETURN_IF_ERROR(Read(*value, "target." + std::string(key), out));
    if (out->empty()) return FieldError("target." + std::string(key), "must not be empty");
    return Status::Ok();
  };
  auto host_port_list = [&](const Json& value, const std::string& path) -> Status {
    std::vector<std::string> servers;
    WAL_RETURN_IF_ERROR(Read(value, path, &servers));
    if (servers.empty()) return FieldError(path, "must list at least one host:port");
    for (size_t i = 0; i < servers.size(); ++i) {
      if (!IsHostPort(servers[i])) {
        return FieldError(path + "[" + std::to_string(i) + "]", "must be host:port, got " + Quoted(servers[i]));
      }
    }
    return Status::Ok();
  };

  std::string text;
  switch (target.type) {
    case TargetType::kNone:
      if (!settings.empty()) return FieldError("target", "target type 'none' takes no settings");
      return Status::Ok();
    case TargetType::kSqlite:
      return required_string("path", &text);
    case TargetType::kPostgres:
      return required_string("dsn", &text);
    case TargetType::kMemcached: {
      WAL_ASSIGN_OR_RETURN(const Json* servers, required("servers"));
      return host_port_list(*servers, "target.servers");
    }
    case TargetType::kRedis:
      WAL_RETURN_IF_ERROR(required_string("address", &text));
      if (!IsHostPort(text)) return FieldError("target.address", "must be host:port, got " + Quoted(text));
      return Status::Ok();
    case TargetType::kKafka:
      WAL_RETURN_IF_ERROR(required_string("bootstrap_servers", &text));
      return required_string("topic", &text);
    case TargetType::kHttp: {
      WAL_RETURN_IF_ERROR(required_string("url", &text));
      if (!IsHttpUrl(text)) return FieldError("target.url", "must start with http:// or https://, got " + Quoted(text));
      if (auto headers = settings.find("headers"); headers != settings.end()) {
        std::map<std::string, std::string> parsed;
        WAL_RETURN_IF_ERROR(Read(*headers, "target.headers", &parsed));
      }
      if (auto timeout = settings.find("timeout"); timeout != settings.end()) {
        Milliseconds parsed{0};
        WAL_RETURN_IF_ERROR(Read(*timeout, "target.timeout", &parsed));
        if (parsed.count() <= 0) return FieldError("target.timeout", "must be > 0s, got " + FormatDuration(parsed));
      }
      return Status::Ok();
    }
    case TargetType::kReplication: {
      WAL_ASSIGN_OR_RETURN(const Json* regions, required("regions"));
      if (!regions->is_object() || regions->empty()) {
        return FieldError("target.regions", "must map region names to {servers: [host:port, ...]}, got " +
                                                Describe(*regions));
      }
      for (const auto& [region, cluster] : regions->items()) {
        WAL_ASSIGN_OR_RETURN(ObjectReader reader, ObjectReader::Open(cluster, "target.regions." + region));
        const Json* servers = reader.Take("servers");
        if (servers == nullptr) return FieldError(reader.PathOf("servers"), "required");
        WAL_RETURN_IF_ERROR(host_port_list(*servers, reader.PathOf("servers")));
        WAL_RETURN_IF_ERROR(reader.RejectUnknownFields());
      }
      if (auto local = settings.find("local_region"); local != settings.end()) {
        WAL_RETURN_IF_ERROR(Read(*local, "target.local_region", &text));
        if (!regions->contains(text)) {
          return FieldError("target.local_region", "must name one of target.regions, got " + Quoted(text));
        }
      }
      if (auto skip = settings.find("skip_local_region"); skip != settings.end()) {
        bool flag = false;
        WAL_RETURN_IF_ERROR(Read(*skip, "target.skip_local_region", &flag));
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status ValidateAccessAndLimits(const NamespaceConfig& config) {
  for (size_t i = 0; i < config.access.tokens.size(); ++i) {
    const AccessToken& token = config.access.tokens[i];
    const std::string path = "access.tokens[" + std::to_string(i) + "]";
    if (token.name.empty()) return FieldError(path + ".name", "required");
    if (!IsSha256Hex(token.sha256)) {
      // Never echo the value: someone may have pasted the secret itself here.
      return FieldError(path + ".sha256", "must be 64 lowercase hex digits (the SHA-256 of the token, not the token)");
    }
    if (token.scopes.empty()) return FieldError(path + ".scopes", "must list at least one of write, read, admin");
    for (size_t j = 0; j < token.scopes.size(); ++j) {
      const std::string& scope = token.scopes[j];
      if (scope != "write" && scope != "read" && scope != "admin") {
        return FieldError(path + ".scopes[" + std::to_string(j) + "]",
                          "must be one of write, read or admin, got " + Quoted(scope));
      }
    }
  }
  const LimitsConfig& limits = config.limits;
  if (!std::isfinite(limits.writes_per_second) || limits.writes_per_second < 0 || limits.writes_per_second > 1e9) {
    return FieldError("limits.writes_per_second", "must be in 0..1000000000 (0 = unlimited)");
  }
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("limits.burst", limits.burst, 0, 1'000'000'000));
  return Status::Ok();
}

Status ValidateNamespaceFields(const NamespaceConfig& config) {
  if (!IsNamespaceName(config.name)) {
    return FieldError("name", "must match [a-z0-9][a-z0-9_.-]{0,127}, got " + Quoted(config.name));
  }
  WAL_RETURN_IF_ERROR(ValidateBackend(config));
  if (!IsQueueName(config.dlq.name)) {
    return FieldError("dlq.name", "must be 1..249 characters of [A-Za-z0-9._-], got " + Quoted(config.dlq.name));
  }

  const DelayConfig& delay = config.delay;
  WAL_RETURN_IF_ERROR(CheckNotNegative("delay.default", delay.default_delay));
  WAL_RETURN_IF_ERROR(CheckNotNegative("delay.jitter", delay.jitter));
  WAL_RETURN_IF_ERROR(CheckNotNegative("delay.max_delay", delay.max_delay));
  if (delay.max_delay.count() > 0 && delay.default_delay > delay.max_delay) {
    return FieldError("delay.default", "must be <= delay.max_delay (" + FormatDuration(delay.max_delay) + "), got " +
                                           FormatDuration(delay.default_delay));
  }

  const BackoffConfig& backoff = config.backoff;
  WAL_RETURN_IF_ERROR(
      CheckDurationRange("backoff.initial", backoff.initial, Milliseconds(1), Milliseconds(kDayMs)));
  if (!(backoff.multiplier >= 1.0) || !std::isfinite(backoff.multiplier) || backoff.multiplier > 1000.0) {
    char text[32];
    auto [end, error] = std::to_chars(text, text + sizeof(text), backoff.multiplier);
    std::string shown(text, error == std::errc() ? end : text);
    return FieldError("backoff.multiplier",
                      backoff.multiplier > 1000.0 ? "must be <= 1000, got " + shown : "must be >= 1.0, got " + shown);
  }
  if (backoff.max < backoff.initial) {
    return FieldError("backoff.max", "must be >= backoff.initial (" + FormatDuration(backoff.initial) + "), got " +
                                         FormatDuration(backoff.max));
  }
  WAL_RETURN_IF_ERROR(CheckDurationRange("backoff.max", backoff.max, backoff.initial, Milliseconds(kDayMs)));

  WAL_RETURN_IF_ERROR(CheckRange("max_retries", config.max_retries, 0, 1000));
  WAL_RETURN_IF_ERROR(ValidateTarget(config.target));
  for (const auto& [name, target] : config.targets) {
    const std::string path = "targets." + name;
    if (!IsTargetName(name)) return FieldError(path, "target names must match [a-z0-9][a-z0-9_-]{0,63}");
    if (target.type == TargetType::kNone) return FieldError(path + ".type", "must name a target type, not 'none'");
    WAL_RETURN_IF_ERROR(ValidateTarget(target, path));
  }
  WAL_RETURN_IF_ERROR(ValidateDurableStorage(config.durable_storage));
  WAL_RETURN_IF_ERROR(CheckRange("consumer.concurrency", config.consumer.concurrency, 1, 256));
  WAL_RETURN_IF_ERROR(CheckDurationRange("consumer.poll_interval", config.consumer.poll_interval, Milliseconds(1),
                                         Milliseconds(kHourMs)));
  WAL_RETURN_IF_ERROR(
      CheckRange("consumer.max_entries_per_poll", config.consumer.max_entries_per_poll, 1, 10000));
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("max_payload_bytes", config.max_payload_bytes, 1, 64 * kMiB));
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("idempotency_window_seconds", config.idempotency_window_seconds, 1,
                                           30 * kDayMs / kSecondMs));
  return ValidateAccessAndLimits(config);
}

// ---------------------------------------------------------------------------
// Namespace encoding: the canonical tree, every field explicit, schema order.

Json EncodeDurations(const std::vector<Milliseconds>& durations) {
  Json array = Json::array();
  for (Milliseconds duration : durations) array.push_back(FormatDuration(duration));
  return array;
}

Json EncodeTarget(const TargetConfig& config) {
  Json target = Json::object();
  target["type"] = TargetTypeName(config.type);
  try {
    Json settings = Json::parse(config.settings_json);
    if (settings.is_object()) {
      for (auto& [key, value] : settings.items()) target[key] = value;
    }
  } catch (const std::exception&) {
    // Unparseable settings fail validation; the saver writes what it can.
  }
  return target;
}

Json EncodeNamespace(const NamespaceConfig& config) {
  Json root = Json::object();
  root["name"] = config.name;

  Json backend = Json::object();
  backend["type"] = BackendTypeName(config.backend.type);
  switch (config.backend.type) {
    case BackendType::kLocal: {
      const LocalBackendConfig& local = config.backend.local;
      backend["local"] = {{"segment_bytes", local.segment_bytes}, {"preallocate", local.preallocate}};
      break;
    }
    case BackendType::kKafka: {
      const KafkaBackendConfig& kafka = config.backend.kafka;
      Json block = Json::object();
      block["bootstrap_servers"] = kafka.bootstrap_servers;
      block["topics"] = kafka.topics;
      block["dlq_topics"] = kafka.dlq_topics;
      block["consumer_group"] = kafka.consumer_group;
      block["delay_tiers"] = EncodeDurations(kafka.delay_tiers);
      block["properties"] = Json::object();
      for (const auto& [key, value] : kafka.properties) block["properties"][key] = value;
      backend["kafka"] = std::move(block);
      break;
    }
    case BackendType::kSqs: {
      const SqsBackendConfig& sqs = config.backend.sqs;
      Json block = Json::object();
      block["queue"] = sqs.queue;
      block["dlq_queue"] = sqs.dlq_queue;
      block["region"] = sqs.region;
      block["endpoint"] = sqs.endpoint;
      block["poll_interval"] = FormatDuration(sqs.poll_interval);
      block["max_messages_per_poll"] = sqs.max_messages_per_poll;
      block["max_delay_hop"] = FormatDuration(sqs.max_delay_hop);
      backend["sqs"] = std::move(block);
      break;
    }
  }
  root["backend"] = std::move(backend);

  root["dlq"] = {{"name", config.dlq.name}};
  Json delay = Json::object();
  delay["default"] = FormatDuration(config.delay.default_delay);
  delay["jitter"] = FormatDuration(config.delay.jitter);
  delay["jitter_model"] = JitterModelName(config.delay.jitter_model);
  delay["max_delay"] = FormatDuration(config.delay.max_delay);
  root["delay"] = std::move(delay);

  Json backoff = Json::object();
  backoff["initial"] = FormatDuration(config.backoff.initial);
  backoff["multiplier"] = config.backoff.multiplier;
  backoff["max"] = FormatDuration(config.backoff.max);
  backoff["jitter"] = JitterModelName(config.backoff.jitter);
  root["backoff"] = std::move(backoff);

  root["max_retries"] = config.max_retries;

  Json target = Json::object();
  target["type"] = TargetTypeName(config.target.type);
  try {
    Json settings = Json::parse(config.target.settings_json);
    if (settings.is_object()) {
      for (auto& [key, value] : settings.items()) target[key] = value;
    }
  } catch (const std::exception&) {
    // Unparseable settings fail validation; the saver writes what it can.
  }
  root["target"] = std::move(target);

  if (!config.targets.empty()) {
    Json targets = Json::object();
    for (const auto& [name, named] : config.targets) targets[name] = EncodeTarget(named);
    root["targets"] = std::move(targets);
  }
  {
    const DurableStorageConfig& ds = config.durable_storage;
    Json storage = Json::object();
    storage["type"] = DurableStorageTypeName(ds.type);
    if (ds.type == DurableStorageType::kPostgres) {
      storage["dsn"] = ds.dsn;
      storage["table"] = ds.table;
    }
    storage["chunk_bytes"] = ds.chunk_bytes;
    storage["max_set_bytes"] = ds.max_set_bytes;
    storage["max_mutations"] = ds.max_mutations;
    root["durable_storage"] = std::move(storage);
  }

  Json flags = Json::object();
  flags["wal_enabled"] = config.flags.wal_enabled;
  flags["dlq_enabled"] = config.flags.dlq_enabled;
  root["flags"] = std::move(flags);

  Json consumer = Json::object();
  consumer["concurrency"] = config.consumer.concurrency;
  consumer["poll_interval"] = FormatDuration(config.consumer.poll_interval);
  consumer["max_entries_per_poll"] = config.consumer.max_entries_per_poll;
  root["consumer"] = std::move(consumer);

  root["max_payload_bytes"] = config.max_payload_bytes;
  root["idempotency_window"] =
      FormatDuration(Milliseconds(static_cast<int64_t>(config.idempotency_window_seconds) * kSecondMs));
  // access and limits are written only when set, so existing files keep their shape.
  if (!config.access.tokens.empty()) {
    Json tokens = Json::array();
    for (const AccessToken& token : config.access.tokens) {
      tokens.push_back({{"name", token.name}, {"sha256", token.sha256}, {"scopes", token.scopes}});
    }
    root["access"] = {{"tokens", std::move(tokens)}};
  }
  if (config.limits != LimitsConfig()) {
    Json limits = Json::object();
    limits["writes_per_second"] = config.limits.writes_per_second;
    limits["burst"] = config.limits.burst;
    limits["max_backlog"] = config.limits.max_backlog;
    root["limits"] = std::move(limits);
  }
  return root;
}

std::string RenderTree(const Json& tree, Format format) {
  if (format == Format::kJson) return DumpJson(tree, 2) + "\n";
  return JsonToYamlText(tree);
}

Result<Json> ParseTree(std::string_view text, Format format, const std::set<std::string>& free_form_paths) {
  return format == Format::kJson ? JsonTextToJson(text) : YamlTextToJson(text, free_form_paths);
}

Result<NamespaceConfig> NamespaceFromTree(const Json& tree) {
  NamespaceConfig config;
  WAL_RETURN_IF_ERROR(DecodeNamespace(tree, &config));
  FillNamespaceDefaults(&config);
  WAL_RETURN_IF_ERROR(ValidateNamespaceFields(config));
  return config;
}

// ---------------------------------------------------------------------------
// Server config

constexpr std::string_view kRoles[] = {"producer", "consumer", "both"};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error"};
constexpr std::string_view kLogFormats[] = {"text", "json"};
constexpr std::string_view kConfigStores[] = {"directory", "postgres"};

template <size_t N>
Status CheckOneOf(std::string_view path, const std::string& value, const std::string_view (&allowed)[N]) {
  if (std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed)) return Status::Ok();
  return FieldError(path, "must be one of " + Join(std::vector<std::string_view>(std::begin(allowed), std::end(allowed))) + ", got " +
                              Quoted(value));
}

Status DecodeServer(const Json& root, ServerConfig* out) {
  WAL_ASSIGN_OR_RETURN(ObjectReader document, ObjectReader::Open(root, ""));
  WAL_RETURN_IF_ERROR(document.Field("data_dir", &out->data_dir));
  WAL_RETURN_IF_ERROR(document.Field("namespaces_dir", &out->namespaces_dir));
  WAL_RETURN_IF_ERROR(document.Field("grpc_listen", &out->grpc_listen));
  WAL_RETURN_IF_ERROR(document.Field("http_listen", &out->http_listen));
  WAL_RETURN_IF_ERROR(document.Field("role", &out->role));
  WAL_RETURN_IF_ERROR(document.Field("max_request_bytes", &out->max_request_bytes));
  WAL_RETURN_IF_ERROR(document.Field("log_level", &out->log_level));
  WAL_RETURN_IF_ERROR(document.Field("region", &out->region));
  WAL_RETURN_IF_ERROR(document.Field("log_format", &out->log_format));
  WAL_RETURN_IF_ERROR(document.Field("shard_map", &out->shard_map));
  WAL_RETURN_IF_ERROR(document.Field("shard", &out->shard));
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader tls, OpenChild(document, "tls"));
    WAL_RETURN_IF_ERROR(tls.Field("cert_file", &out->tls.cert_file));
    WAL_RETURN_IF_ERROR(tls.Field("key_file", &out->tls.key_file));
    WAL_RETURN_IF_ERROR(tls.Field("client_ca_file", &out->tls.client_ca_file));
    WAL_RETURN_IF_ERROR(tls.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader auth, OpenChild(document, "auth"));
    WAL_RETURN_IF_ERROR(auth.Field("tokens_file", &out->auth.tokens_file));
    WAL_RETURN_IF_ERROR(auth.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader store, OpenChild(document, "config_store"));
    WAL_RETURN_IF_ERROR(store.Field("type", &out->config_store.type));
    WAL_RETURN_IF_ERROR(store.Field("poll_interval", &out->config_store.poll_interval));
    WAL_RETURN_IF_ERROR(store.Field("dsn", &out->config_store.dsn));
    WAL_RETURN_IF_ERROR(store.Field("table", &out->config_store.table));
    WAL_RETURN_IF_ERROR(store.RejectUnknownFields());
  }
  return document.RejectUnknownFields();
}

Json EncodeServer(const ServerConfig& config) {
  Json root = Json::object();
  root["data_dir"] = config.data_dir;
  root["namespaces_dir"] = config.namespaces_dir;
  root["grpc_listen"] = config.grpc_listen;
  root["http_listen"] = config.http_listen;
  root["role"] = config.role;
  root["max_request_bytes"] = config.max_request_bytes;
  root["log_level"] = config.log_level;
  if (!config.region.empty()) root["region"] = config.region;
  if (config.log_format != "text") root["log_format"] = config.log_format;
  if (!config.shard_map.empty()) root["shard_map"] = config.shard_map;
  if (!config.shard.empty()) root["shard"] = config.shard;
  if (config.tls != TlsConfig()) {
    root["tls"] = {{"cert_file", config.tls.cert_file}, {"key_file", config.tls.key_file},
                   {"client_ca_file", config.tls.client_ca_file}};
  }
  if (!config.auth.tokens_file.empty()) root["auth"] = {{"tokens_file", config.auth.tokens_file}};
  if (config.config_store != ConfigStoreConfig()) {
    root["config_store"] = {{"type", config.config_store.type},
                            {"poll_interval", FormatDuration(config.config_store.poll_interval)}};
    if (!config.config_store.dsn.empty()) root["config_store"]["dsn"] = config.config_store.dsn;
    if (config.config_store.table != ConfigStoreConfig().table) root["config_store"]["table"] = config.config_store.table;
  }
  return root;
}

// ---------------------------------------------------------------------------
// Files

constexpr std::string_view kNamespaceExtensions[] = {".yaml", ".yml", ".json"};

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The name without its extension ("orders.yaml" -> "orders").
std::string_view Stem(std::string_view file_name) {
  size_t dot = file_name.rfind('.');
  return dot == std::string_view::npos ? file_name : file_name.substr(0, dot);
}

}  // namespace

// ---------------------------------------------------------------------------
// Public functions

std::string_view BackendTypeName(BackendType type) {
  for (const auto& entry : kBackendNames) {
    if (entry.value == type) return entry.name;
  }
  return "unknown";
}

std::string_view TargetTypeName(TargetType type) {
  for (const auto& entry : kTargetNames) {
    if (entry.value == type) return entry.name;
  }
  return "unknown";
}

std::string_view DurableStorageTypeName(DurableStorageType type) {
  for (const auto& entry : kDurableStorageNames) {
    if (entry.value == type) return entry.name;
  }
  return "unknown";
}

std::string_view JitterModelName(JitterModel model) {
  for (const auto& entry : kJitterNames) {
    if (entry.value == model) return entry.name;
  }
  return "unknown";
}

void FillNamespaceDefaults(NamespaceConfig* config) {
  if (config->dlq.name.empty()) config->dlq.name = config->name + "-dlq";
  if (config->backend.type == BackendType::kKafka && config->backend.kafka.consumer_group.empty()) {
    config->backend.kafka.consumer_group = "wal-" + config->name;
  }
}

Result<NamespaceConfig> ParseNamespace(std::string_view text, Format format, std::string_view source) try {
  auto tree = ParseTree(text, format, kNamespaceFreeFormPaths);
  if (!tree.ok()) return WithSource(tree.status(), source);
  auto config = NamespaceFromTree(tree.value());
  if (!config.ok()) return WithSource(config.status(), source);
  return config;
} catch (const std::exception& error) {
  return WithSource(Internal(std::string("unexpected error: ") + error.what()), source);
}

Result<NamespaceConfig> NamespaceFromJson(std::string_view json_text, std::string_view source) {
  return ParseNamespace(json_text, Format::kJson, source);
}

std::string SaveNamespace(const NamespaceConfig& config, Format format) {
  return RenderTree(EncodeNamespace(config), format);
}

std::string NamespaceToJson(const NamespaceConfig& config) { return RenderTree(EncodeNamespace(config), Format::kJson); }

Status ValidateNamespace(const NamespaceConfig& config) {
  try {
    return ValidateNamespaceFields(config);
  } catch (const std::exception& error) {
    return Internal(std::string("validating namespace: ") + error.what());
  }
}

Status ValidateServerConfig(const ServerConfig& config) {
  if (config.data_dir.empty()) return FieldError("data_dir", "must not be empty");
  if (config.namespaces_dir.empty()) return FieldError("namespaces_dir", "must not be empty");
  if (!IsHostPort(config.grpc_listen)) {
    return FieldError("grpc_listen", "must be host:port, got " + Quoted(config.grpc_listen));
  }
  // An empty http_listen turns the HTTP endpoint off.
  if (!config.http_listen.empty() && !IsHostPort(config.http_listen)) {
    return FieldError("http_listen", "must be host:port or empty, got " + Quoted(config.http_listen));
  }
  WAL_RETURN_IF_ERROR(CheckOneOf("role", config.role, kRoles));
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("max_request_bytes", config.max_request_bytes, 1024, 1024 * kMiB));
  WAL_RETURN_IF_ERROR(CheckOneOf("log_format", config.log_format, kLogFormats));
  if (!config.shard_map.empty() && config.shard.empty()) {
    return FieldError("shard", "is required with shard_map: it names this instance's shard in the map");
  }
  if (!config.shard.empty() && config.shard_map.empty() && config.config_store.type != "postgres") {
    return FieldError("shard_map", "is required with shard (a shard map file), unless config_store.type is postgres "
                                   "(the map is then kept in the config store)");
  }
  const TlsConfig& tls = config.tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return FieldError(tls.cert_file.empty() ? "tls.cert_file" : "tls.key_file", "tls.cert_file and tls.key_file must be set together");
  }
  if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
    return FieldError("tls.client_ca_file", "needs tls.cert_file and tls.key_file (mTLS is TLS plus client certificates)");
  }
  WAL_RETURN_IF_ERROR(CheckOneOf("config_store.type", config.config_store.type, kConfigStores));
  WAL_RETURN_IF_ERROR(CheckDurationRange("config_store.poll_interval", config.config_store.poll_interval, Milliseconds(0),
                                         Milliseconds(kHourMs)));
  const ConfigStoreConfig& store = config.config_store;
  if (store.type == "postgres" && store.dsn.empty()) {
    return FieldError("config_store.dsn", "is required when config_store.type is postgres");
  }
  if (store.type != "postgres" && !store.dsn.empty()) {
    return FieldError("config_store.dsn", "is only used when config_store.type is postgres");
  }
  if (!IsConfigTableName(store.table)) {
    return FieldError("config_store.table", "must match [A-Za-z_][A-Za-z0-9_]{0,47}, got " + Quoted(store.table));
  }
  return CheckOneOf("log_level", config.log_level, kLogLevels);
}

Result<ServerConfig> ParseServerConfig(std::string_view text, Format format, std::string_view source) try {
  auto tree = ParseTree(text, format, {});
  if (!tree.ok()) return WithSource(tree.status(), source);
  ServerConfig config;
  Status status = DecodeServer(tree.value(), &config);
  if (status.ok()) status = ValidateServerConfig(config);
  if (!status.ok()) return WithSource(status, source);
  return config;
} catch (const std::exception& error) {
  return WithSource(Internal(std::string("unexpected error: ") + error.what()), source);
}

std::string SaveServerConfig(const ServerConfig& config, Format format) {
  return RenderTree(EncodeServer(config), format);
}

Result<Format> FormatFromPath(std::string_view path) {
  std::string_view name = BaseName(path);
  if (name.ends_with(".yaml") || name.ends_with(".yml")) return Format::kYaml;
  if (name.ends_with(".json")) return Format::kJson;
  return InvalidArgument(std::string(path) + ": unknown config format (expected .yaml, .yml or .json)");
}

Result<NamespaceConfig> LoadNamespaceFile(FileSystem* file_system, const std::string& path) {
  WAL_ASSIGN_OR_RETURN(Format format, FormatFromPath(path));
  WAL_ASSIGN_OR_RETURN(std::string text, file_system->ReadFile(path));
  return ParseNamespace(text, format, path);
}

Result<ServerConfig> LoadServerConfigFile(FileSystem* file_system, const std::string& path) {
  WAL_ASSIGN_OR_RETURN(Format format, FormatFromPath(path));
  WAL_ASSIGN_OR_RETURN(std::string text, file_system->ReadFile(path));
  return ParseServerConfig(text, format, path);
}

DirectoryLoad LoadNamespaceDirectory(FileSystem* file_system, const std::string& directory) {
  DirectoryLoad load;
  auto names = file_system->ListDirectory(directory);
  if (!names.ok()) {
    load.errors.push_back(names.status());
    return load;
  }
  std::map<std::string, std::string> file_of_namespace;
  for (const std::string& file_name : names.value()) {
    // Only config files: editor backups, "*.tmp" from atomic writes and the
    // like are not namespaces.
    if (file_name.starts_with(".") || !FormatFromPath(file_name).ok()) continue;
    std::string path = JoinPath(directory, file_name);
    auto config = LoadNamespaceFile(file_system, path);
    if (!config.ok()) {
      load.errors.push_back(config.status());
      continue;
    }
    std::string_view stem = Stem(file_name);
    if (config->name != stem) {
      load.errors.push_back(InvalidArgument(path + ": name: " + Quoted(config->name) +
                                            " does not match the file name " + Quoted(file_name) +
                                            " (a namespace file must be named <name>.yaml)"));
      continue;
    }
    auto [existing, inserted] = file_of_namespace.emplace(config->name, path);
    if (!inserted) {
      load.errors.push_back(AlreadyExists(path + ": name: namespace " + Quoted(config->name) +
                                          " is already defined by " + existing->second));
      continue;
    }
    load.namespaces.push_back(std::move(config).value());
  }
  return load;
}

Status SaveNamespaceFile(FileSystem* file_system, const std::string& directory, const NamespaceConfig& config) {
  WAL_RETURN_IF_ERROR(ValidateNamespace(config));
  WAL_RETURN_IF_ERROR(file_system->CreateDirectories(directory));
  std::string yaml_path = JoinPath(directory, config.name + ".yaml");
  WAL_RETURN_IF_ERROR(file_system->WriteFileAtomically(yaml_path, SaveNamespace(config, Format::kYaml)));
  // Another file for the same name would be loaded as a duplicate next time.
  bool removed_any = false;
  for (std::string_view extension : {".json", ".yml"}) {
    std::string stale = JoinPath(directory, config.name + std::string(extension));
    if (!file_system->Exists(stale)) continue;
    WAL_RETURN_IF_ERROR(file_system->RemoveFile(stale));
    removed_any = true;
  }
  if (removed_any) WAL_RETURN_IF_ERROR(file_system->SyncDirectory(directory));
  return Status::Ok();
}

Status DeleteNamespaceFile(FileSystem* file_system, const std::string& directory, const std::string& name) {
  // The name becomes a path: refuse anything that could leave the directory.
  if (!IsNamespaceName(name)) {
    return InvalidArgument("name: must match [a-z0-9][a-z0-9_.-]{0,127}, got " + Quoted(name));
  }
  bool removed_any = false;
  for (std::string_view extension : kNamespaceExtensions) {
    std::string path = JoinPath(directory, name + std::string(extension));
    if (!file_system->Exists(path)) continue;
    WAL_RETURN_IF_ERROR(file_system->RemoveFile(path));
    removed_any = true;
  }
  if (!removed_any) return NotFound("namespace " + Quoted(name) + " has no config file in " + directory);
  return file_system->SyncDirectory(directory);
}

}  // namespace wal::config
