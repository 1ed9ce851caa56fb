// The namespace config's decoder, validator and encoder.
//
// Errors are built as "<field.path>: <reason>" and the public entry points
// prefix "<source>: ". Module sections (backend, target, targets,
// durable_storage) are read by the module the catalog names and validated by
// the module's settings; everything else is read and checked here.
#include "config/namespace_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "config/duration.h"
#include "config/module_catalog.h"
#include "config/object_reader.h"

namespace wal::config {
namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr int64_t kSecondMs = 1000;
constexpr int64_t kHourMs = 60 * 60 * kSecondMs;
constexpr int64_t kDayMs = 24 * kHourMs;

constexpr EnumName<JitterModel> kJitterNames[] = {{"none", JitterModel::kNone},
                                                  {"full", JitterModel::kFull},
                                                  {"equal", JitterModel::kEqual},
                                                  {"plus_minus", JitterModel::kPlusMinus}};

Status WithSource(const Status& status, std::string_view source) {
  return source.empty() ? status : status.WithContext(source);
}

bool IsTargetName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) { return lower_or_digit(c) || c == '_' || c == '-'; });
}

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ---------------------------------------------------------------------------
// Module sections

// The module `type_value` (at `path`, "<section>.type") names; `extra` are
// names this layer accepts itself (a target's "none"), listed after the types.
Result<const ModuleSchema*> FindModule(const ModuleCatalog& modules, ModuleKind kind, const Json& type_value,
                                       const std::string& path, const std::string& type,
                                       const std::vector<std::string_view>& extra = {}) {
  if (const ModuleSchema* found = modules.Find(kind, type)) return found;
  std::vector<std::string_view> accepted = modules.Types(kind);
  accepted.insert(accepted.end(), extra.begin(), extra.end());
  std::vector<std::string_view> aliases = modules.Aliases(kind);
  accepted.insert(accepted.end(), aliases.begin(), aliases.end());
  std::string reason = "must be one of " + JoinAlternatives(accepted) + ", got " + Describe(type_value);
  std::string lowered = type;  // type names match ignoring case
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (std::string_view nearest = NearestMatch(lowered, accepted); !nearest.empty()) {
    reason += " (did you mean " + Quoted(nearest) + "?)";
  }
  return FieldError(path, reason);
}

// A key the chosen module does not read, explained when another type reads it.
std::function<std::string(std::string_view)> ExplainOtherType(const ModuleCatalog& modules, ModuleKind kind,
                                                              std::string_view chosen, const std::string& type_path) {
  return [&modules, kind, chosen, type_path](std::string_view key) -> std::string {
    if (modules.OtherTypeReading(kind, chosen, key).empty()) return "";
    return "is set but " + type_path + " is " + Quoted(chosen);
  };
}

// backend: {type, <type>: {...}}. Only the block of the chosen type may be
// set: a kafka block under a local backend is almost certainly a forgotten
// `type: kafka`.
Status DecodeBackend(ObjectReader& reader, const ModuleCatalog& modules, const DecodeContext& context,
                     BackendConfig* out) {
  static const Json kDefaultType = std::string(BackendConfig::kDefaultType);
  const Json* type_value = reader.Take("type");
  if (type_value == nullptr) type_value = &kDefaultType;
  std::string type;
  WAL_RETURN_IF_ERROR(Read(*type_value, reader.PathOf("type"), &type));
  WAL_ASSIGN_OR_RETURN(const ModuleSchema* chosen,
                       FindModule(modules, ModuleKind::kBackend, *type_value, reader.PathOf("type"), type));
  for (std::string_view block : modules.Types(ModuleKind::kBackend)) {
    WAL_ASSIGN_OR_RETURN(ObjectReader child, OpenChild(reader, block));
    if (block != chosen->type) {
      // An absent or empty block of another type is harmless.
      if (child.HasUnknownFields()) {
        return FieldError(child.path(), "is set but backend.type is " + Quoted(chosen->type));
      }
      continue;
    }
    WAL_ASSIGN_OR_RETURN(out->settings, chosen->read(child, context));
    WAL_RETURN_IF_ERROR(child.RejectUnknownFields());
  }
  return reader.RejectUnknownFields();
}

// target: {type, settings...}: the keys beside `type` are the module's.
Status DecodeTarget(ObjectReader& reader, const ModuleCatalog& modules, const DecodeContext& context,
                    TargetConfig* out) {
  const Json* type_value = reader.Take("type");
  if (type_value == nullptr) {
    if (reader.HasUnknownFields()) return FieldError(reader.PathOf("type"), "required when target settings are given");
    return Status::Ok();  // no target block: none
  }
  std::string type;
  WAL_RETURN_IF_ERROR(Read(*type_value, reader.PathOf("type"), &type));
  if (EqualsIgnoringCase(type, TargetConfig::kNoTarget)) {
    if (reader.HasUnknownFields()) return FieldError(reader.path(), "target type 'none' takes no settings");
    out->settings = ModuleConfig();
    return Status::Ok();
  }
  WAL_ASSIGN_OR_RETURN(const ModuleSchema* chosen, FindModule(modules, ModuleKind::kTarget, *type_value,
                                                              reader.PathOf("type"), type, {TargetConfig::kNoTarget}));
  WAL_ASSIGN_OR_RETURN(out->settings, chosen->read(reader, context));
  return reader.RejectUnknownFields(
      ExplainOtherType(modules, ModuleKind::kTarget, chosen->type, reader.PathOf("type")));
}

// durable_storage: {type, chunk_bytes, max_set_bytes, max_mutations, store settings...}.
Status DecodeDurableStorage(ObjectReader& reader, const ModuleCatalog& modules, const DecodeContext& context,
                            DurableStorageConfig* out) {
  static const Json kDefaultType = std::string(DurableStorageConfig::kDefaultType);
  const Json* type_value = reader.Take("type");
  if (type_value == nullptr) type_value = &kDefaultType;
  std::string type;
  WAL_RETURN_IF_ERROR(Read(*type_value, reader.PathOf("type"), &type));
  WAL_ASSIGN_OR_RETURN(const ModuleSchema* chosen,
                       FindModule(modules, ModuleKind::kDurableStorage, *type_value, reader.PathOf("type"), type));
  WAL_ASSIGN_OR_RETURN(out->settings, chosen->read(reader, context));
  WAL_RETURN_IF_ERROR(reader.Field("chunk_bytes", &out->chunk_bytes));
  WAL_RETURN_IF_ERROR(reader.Field("max_set_bytes", &out->max_set_bytes));
  WAL_RETURN_IF_ERROR(reader.Field("max_mutations", &out->max_mutations));
  return reader.RejectUnknownFields(
      ExplainOtherType(modules, ModuleKind::kDurableStorage, chosen->type, reader.PathOf("type")));
}

// ---------------------------------------------------------------------------
// Decoding

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

Status DecodePolicy(ObjectReader& document, NamespaceConfig* out) {
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader dlq, OpenChild(document, "dlq"));
    WAL_RETURN_IF_ERROR(dlq.Field("name", &out->dlq.name));
    WAL_RETURN_IF_ERROR(dlq.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader delay, OpenChild(document, "delay"));
    WAL_RETURN_IF_ERROR(delay.Field("default", &out->delay.default_delay));
    WAL_RETURN_IF_ERROR(delay.Field("jitter", &out->delay.jitter));
    if (const Json* model = delay.Take("jitter_model")) {
      WAL_RETURN_IF_ERROR(ReadEnum(*model, delay.PathOf("jitter_model"), kJitterNames, &out->delay.jitter_model));
    }
    WAL_RETURN_IF_ERROR(delay.Field("max_delay", &out->delay.max_delay));
    WAL_RETURN_IF_ERROR(delay.RejectUnknownFields());
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader backoff, OpenChild(document, "backoff"));
    WAL_RETURN_IF_ERROR(backoff.Field("initial", &out->backoff.initial));
    WAL_RETURN_IF_ERROR(backoff.Field("multiplier", &out->backoff.multiplier));
    WAL_RETURN_IF_ERROR(backoff.Field("max", &out->backoff.max));
    if (const Json* jitter = backoff.Take("jitter")) {
      WAL_RETURN_IF_ERROR(ReadEnum(*jitter, backoff.PathOf("jitter"), kJitterNames, &out->backoff.jitter));
    }
    WAL_RETURN_IF_ERROR(backoff.RejectUnknownFields());
  }
  return document.Field("max_retries", &out->max_retries);
}

Status DecodeNamespace(const Json& root, const ModuleCatalog& modules, NamespaceConfig* out) {
  WAL_ASSIGN_OR_RETURN(ObjectReader document, ObjectReader::Open(root, ""));
  if (document.Take("name") == nullptr) return FieldError("name", "required");
  WAL_RETURN_IF_ERROR(document.Field("name", &out->name));
  const DecodeContext context{out->name};

  {
    WAL_ASSIGN_OR_RETURN(ObjectReader backend, OpenChild(document, "backend"));
    WAL_RETURN_IF_ERROR(DecodeBackend(backend, modules, context, &out->backend));
  }
  WAL_RETURN_IF_ERROR(DecodePolicy(document, out));
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader target, OpenChild(document, "target"));
    WAL_RETURN_IF_ERROR(DecodeTarget(target, modules, context, &out->target));
  }
  if (const Json* targets = document.Take("targets")) {
    if (!targets->is_object()) return FieldError("targets", "must map target names to targets, got " + Describe(*targets));
    for (const auto& [name, value] : targets->items()) {
      WAL_ASSIGN_OR_RETURN(ObjectReader target, ObjectReader::Open(value, "targets." + name));
      TargetConfig decoded;
      WAL_RETURN_IF_ERROR(DecodeTarget(target, modules, context, &decoded));
      if (decoded.is_none() && value.is_object() && !value.contains("type")) {
        return FieldError("targets." + name + ".type", "required");
      }
      out->targets[name] = std::move(decoded);
    }
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader storage, OpenChild(document, "durable_storage"));
    WAL_RETURN_IF_ERROR(DecodeDurableStorage(storage, modules, context, &out->durable_storage));
  }
  {
    WAL_ASSIGN_OR_RETURN(ObjectReader flags, OpenChild(document, "flags"));
    WAL_RETURN_IF_ERROR(flags.Field("wal_enabled", &out->flags.wal_enabled));
    WAL_RETURN_IF_ERROR(flags.Field("dlq_enabled", &out->flags.dlq_enabled));
    WAL_RETURN_IF_ERROR(flags.Field("delivery_paused", &out->flags.delivery_paused));
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
// Validation (over the struct, so the admin path and code-built configs share it)

Status ValidateDelayAndBackoff(const NamespaceConfig& config) {
  const DelayConfig& delay = config.delay;
  WAL_RETURN_IF_ERROR(CheckNotNegative("delay.default", delay.default_delay));
  WAL_RETURN_IF_ERROR(CheckNotNegative("delay.jitter", delay.jitter));
  WAL_RETURN_IF_ERROR(CheckNotNegative("delay.max_delay", delay.max_delay));
  if (delay.max_delay.count() > 0 && delay.default_delay > delay.max_delay) {
    return FieldError("delay.default", "must be <= delay.max_delay (" + FormatDuration(delay.max_delay) + "), got " +
                                           FormatDuration(delay.default_delay));
  }

  const BackoffConfig& backoff = config.backoff;
  WAL_RETURN_IF_ERROR(CheckDurationRange("backoff.initial", backoff.initial, Milliseconds(1), Milliseconds(kDayMs)));
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
  return CheckDurationRange("backoff.max", backoff.max, backoff.initial, Milliseconds(kDayMs));
}

Status ValidateTargets(const NamespaceConfig& config) {
  WAL_RETURN_IF_ERROR(config.target.settings.Validate("target"));
  for (const auto& [name, target] : config.targets) {
    const std::string path = "targets." + name;
    if (!IsTargetName(name)) return FieldError(path, "target names must match [a-z0-9][a-z0-9_-]{0,63}");
    if (target.is_none()) return FieldError(path + ".type", "must name a target type, not 'none'");
    WAL_RETURN_IF_ERROR(target.settings.Validate(path));
  }
  return Status::Ok();
}

Status ValidateDurableStorage(const DurableStorageConfig& storage) {
  WAL_RETURN_IF_ERROR(storage.settings.Validate("durable_storage"));
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("durable_storage.chunk_bytes", storage.chunk_bytes, 4096, 16 * kMiB));
  WAL_RETURN_IF_ERROR(CheckRange<uint64_t>("durable_storage.max_set_bytes", storage.max_set_bytes, 1024, 256 * kMiB));
  return CheckRange("durable_storage.max_mutations", storage.max_mutations, 1, 100000);
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
  return CheckRange<uint64_t>("limits.burst", limits.burst, 0, 1'000'000'000);
}

Status ValidateNamespaceFields(const NamespaceConfig& config) {
  if (!IsNamespaceName(config.name)) {
    return FieldError("name", "must match [a-z0-9][a-z0-9_.-]{0,127}, got " + Quoted(config.name));
  }
  WAL_RETURN_IF_ERROR(config.backend.settings.Validate("backend." + std::string(config.backend.type())));
  if (!IsQueueName(config.dlq.name)) {
    return FieldError("dlq.name", "must be 1..249 characters of [A-Za-z0-9._-], got " + Quoted(config.dlq.name));
  }
  WAL_RETURN_IF_ERROR(ValidateDelayAndBackoff(config));
  WAL_RETURN_IF_ERROR(CheckRange("max_retries", config.max_retries, 0, 1000));
  WAL_RETURN_IF_ERROR(ValidateTargets(config));
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
// Encoding: the canonical tree, every field explicit, schema order.

Json EncodeTarget(const TargetConfig& config) {
  Json target = Json::object();
  target["type"] = std::string(config.type());
  config.settings.Write(target);
  return target;
}

Json EncodeNamespace(const NamespaceConfig& config) {
  Json root = Json::object();
  root["name"] = config.name;

  Json backend = Json::object();
  const std::string backend_type(config.backend.type());
  backend["type"] = backend_type;
  if (!config.backend.settings.empty()) {
    Json block = Json::object();
    config.backend.settings.Write(block);
    backend[backend_type] = std::move(block);
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
  root["target"] = EncodeTarget(config.target);
  if (!config.targets.empty()) {
    Json targets = Json::object();
    for (const auto& [name, named] : config.targets) targets[name] = EncodeTarget(named);
    root["targets"] = std::move(targets);
  }
  {
    const DurableStorageConfig& ds = config.durable_storage;
    Json storage = Json::object();
    storage["type"] = std::string(ds.type());
    ds.settings.Write(storage);
    storage["chunk_bytes"] = ds.chunk_bytes;
    storage["max_set_bytes"] = ds.max_set_bytes;
    storage["max_mutations"] = ds.max_mutations;
    root["durable_storage"] = std::move(storage);
  }

  Json flags = Json::object();
  flags["wal_enabled"] = config.flags.wal_enabled;
  flags["dlq_enabled"] = config.flags.dlq_enabled;
  flags["delivery_paused"] = config.flags.delivery_paused;
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

Result<NamespaceConfig> NamespaceFromTree(const Json& tree, const ModuleCatalog& modules) {
  NamespaceConfig config;
  WAL_RETURN_IF_ERROR(DecodeNamespace(tree, modules, &config));
  FillNamespaceDefaults(&config);
  WAL_RETURN_IF_ERROR(ValidateNamespaceFields(config));
  return config;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public functions

bool BackendConfig::operator==(const BackendConfig& other) const {
  if (type() != other.type()) return false;
  return settings == other.settings || (settings.IsDefault() && other.settings.IsDefault());
}

bool DurableStorageConfig::operator==(const DurableStorageConfig& other) const {
  if (type() != other.type() || chunk_bytes != other.chunk_bytes || max_set_bytes != other.max_set_bytes ||
      max_mutations != other.max_mutations) {
    return false;
  }
  return settings == other.settings || (settings.IsDefault() && other.settings.IsDefault());
}

std::string_view JitterModelName(JitterModel model) { return EnumNameOf(model, kJitterNames); }

bool IsNamespaceName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '_' || c == '.' || c == '-'; });
}

void FillNamespaceDefaults(NamespaceConfig* config) {
  if (config->dlq.name.empty()) config->dlq.name = config->name + "-dlq";
}

Result<NamespaceConfig> ParseNamespace(std::string_view text, Format format, std::string_view source,
                                       const ModuleCatalog& modules) try {
  auto tree = ParseTree(text, format);
  if (!tree.ok()) return WithSource(tree.status(), source);
  auto config = NamespaceFromTree(tree.value(), modules);
  if (!config.ok()) return WithSource(config.status(), source);
  return config;
} catch (const std::exception& error) {
  return WithSource(Internal(std::string("unexpected error: ") + error.what()), source);
}

Result<NamespaceConfig> NamespaceFromJson(std::string_view json_text, std::string_view source,
                                          const ModuleCatalog& modules) {
  return ParseNamespace(json_text, Format::kJson, source, modules);
}

Result<TargetConfig> TargetFromJson(std::string_view json_text, std::string_view path,
                                    const ModuleCatalog& modules) try {
  WAL_ASSIGN_OR_RETURN(Json tree, JsonTextToJson(json_text));
  WAL_ASSIGN_OR_RETURN(ObjectReader reader, ObjectReader::Open(tree, std::string(path)));
  TargetConfig target;
  WAL_RETURN_IF_ERROR(DecodeTarget(reader, modules, DecodeContext{}, &target));
  WAL_RETURN_IF_ERROR(target.settings.Validate(std::string(path)));
  return target;
} catch (const std::exception& error) {
  return Internal(std::string(path) + ": unexpected error: " + error.what());
}

std::string SaveNamespace(const NamespaceConfig& config, Format format) {
  return RenderTree(EncodeNamespace(config), format);
}

std::string NamespaceToJson(const NamespaceConfig& config) { return SaveNamespace(config, Format::kJson); }

Status ValidateNamespace(const NamespaceConfig& config) {
  try {
    return ValidateNamespaceFields(config);
  } catch (const std::exception& error) {
    return Internal(std::string("validating namespace: ") + error.what());
  }
}

}  // namespace wal::config
