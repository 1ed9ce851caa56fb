#include "target/settings.h"

#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "config/duration.h"

namespace wal::target {
namespace {

using Json = nlohmann::json;

std::string Describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::object: return "a mapping";
    case Json::value_t::array: return "a list";
    case Json::value_t::boolean: return "a bool";
    case Json::value_t::string: return "a string";
    default: return value.is_number() ? "a number" : "null";
  }
}

}  // namespace

Status SettingError(std::string_view key, std::string_view reason) {
  return InvalidArgument("target." + std::string(key) + ": " + std::string(reason));
}

Result<HostPort> ParseHostPort(std::string_view text, std::string_view field) {
  auto invalid = [&] { return SettingError(field, "must be host:port, got '" + std::string(text) + "'"); };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return invalid();
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.find_first_of(" \t/") != std::string_view::npos) return invalid();
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return invalid();
    host = host.substr(1, host.size() - 2);  // the client libraries want the bare address
  }
  int port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) return invalid();
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

struct Settings::Impl {
  Json object;
  std::set<std::string, std::less<>> known_keys;

  // The value at `key`, or nullptr when absent or null (both mean "default").
  const Json* Find(std::string_view key) {
    known_keys.emplace(key);
    auto found = object.find(std::string(key));
    if (found == object.end() || found->is_null()) return nullptr;
    return &*found;
  }
};

Settings::Settings(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Settings::~Settings() = default;
Settings::Settings(Settings&&) noexcept = default;
Settings& Settings::operator=(Settings&&) noexcept = default;

Result<Settings> Settings::Parse(std::string_view json_text) {
  auto impl = std::make_unique<Impl>();
  // The no-throw overload: a parse error yields a "discarded" value.
  impl->object = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (impl->object.is_discarded()) return InvalidArgument("target: settings are not valid JSON");
  if (!impl->object.is_object()) return InvalidArgument("target: settings must be a mapping, got " + Describe(impl->object));
  return Settings(std::move(impl));
}

Result<std::string> Settings::RequiredString(std::string_view key) {
  const Json* value = impl_->Find(key);
  if (value == nullptr) return SettingError(key, "is required");
  if (!value->is_string()) return SettingError(key, "must be a string, got " + Describe(*value));
  std::string text = value->get<std::string>();
  if (text.empty()) return SettingError(key, "must not be empty");
  return text;
}

Result<std::string> Settings::OptionalString(std::string_view key, std::string default_value) {
  const Json* value = impl_->Find(key);
  if (value == nullptr) return default_value;
  if (!value->is_string()) return SettingError(key, "must be a string, got " + Describe(*value));
  return value->get<std::string>();
}

Result<bool> Settings::OptionalBool(std::string_view key, bool default_value) {
  const Json* value = impl_->Find(key);
  if (value == nullptr) return default_value;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_string() && (*value == "true" || *value == "false")) return *value == "true";
  return SettingError(key, "must be true or false, got " + Describe(*value));
}

Result<int64_t> Settings::OptionalInteger(std::string_view key, int64_t default_value, int64_t min, int64_t max) {
  const Json* value = impl_->Find(key);
  if (value == nullptr) return default_value;
  int64_t number = 0;
  if (value->is_number_integer()) {
    if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return SettingError(key, "is out of range");
    }
    number = value->get<int64_t>();
  } else if (value->is_number_float()) {
    // protobuf Struct carries every number as a double, so 5.0 means 5.
    double real = value->get<double>();
    if (std::trunc(real) != real || std::fabs(real) > 9e15) return SettingError(key, "must be an integer, got " + value->dump());
    number = static_cast<int64_t>(real);
  } else if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      return SettingError(key, "must be an integer, got \"" + text + "\"");
    }
  } else {
    return SettingError(key, "must be an integer, got " + Describe(*value));
  }
  if (number < min || number > max) {
    return SettingError(key, "must be in " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                                 std::to_string(number));
  }
  return number;
}

Result<std::chrono::milliseconds> Settings::OptionalDuration(std::string_view key,
                                                             std::chrono::milliseconds default_value) {
  const Json* value = impl_->Find(key);
  if (value == nullptr) return default_value;
  std::chrono::milliseconds duration{0};
  if (value->is_string()) {
    auto parsed = config::ParseDuration(value->get_ref<const std::string&>());
    if (!parsed.ok()) return SettingError(key, parsed.status().message());
    duration = parsed.value();
  } else {
    // A bare number is milliseconds, as everywhere in the config.
    WAL_ASSIGN_OR_RETURN(int64_t ms, OptionalInteger(key, 0, INT64_MIN, INT64_MAX));
    duration = std::chrono::milliseconds(ms);
  }
  if (duration <= std::chrono::milliseconds(0)) {
    return SettingError(key, "must be > 0s, got " + config::FormatDuration(duration));
  }
  return duration;
}

Result<std::vector<std::string>> Settings::RequiredStringList(std::string_view key) {
  const Json* value = impl_->Find(key);
  if (value == nullptr) return SettingError(key, "is required");
  if (!value->is_array()) return SettingError(key, "must be a list, got " + Describe(*value));
  std::vector<std::string> items;
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
    if (!item.is_string()) return SettingError(item_key, "must be a string, got " + Describe(item));
    items.push_back(item.get<std::string>());
  }
  if (items.empty()) return SettingError(key, "must not be empty");
  return items;
}

Result<std::map<std::string, std::string>> Settings::OptionalStringMap(std::string_view key) {
  const Json* value = impl_->Find(key);
  std::map<std::string, std::string> entries;
  if (value == nullptr) return entries;
  if (!value->is_object()) return SettingError(key, "must be a mapping, got " + Describe(*value));
  for (const auto& [name, item] : value->items()) {
    std::string item_key = std::string(key) + "." + name;
    if (!item.is_string()) return SettingError(item_key, "must be a string, got " + Describe(item));
    entries.emplace(name, item.get<std::string>());
  }
  return entries;
}

Status Settings::RejectUnknownKeys() const {
  for (const auto& [name, value] : impl_->object.items()) {
    if (impl_->known_keys.contains(name)) continue;
    std::string known;
    for (const std::string& key : impl_->known_keys) known += (known.empty() ? "" : ", ") + key;
    return SettingError(name, "unknown setting (this target takes: " + known + ")");
  }
  return Status::Ok();
}

}  // namespace wal::target
