#include "config/object_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "config/duration.h"

namespace wal::config {
namespace {

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

// Integers of any width: JSON integers, integral floats and decimal strings.
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
    if (number < static_cast<int64_t>(kMin) ||
        (number >= 0 && static_cast<uint64_t>(number) > static_cast<uint64_t>(kMax))) {
      return out_of_range();
    }
    *out = static_cast<Integer>(number);
    return Status::Ok();
  }
  if (value.is_number_float()) {
    double number = value.get<double>();
    if (std::isfinite(number) && std::trunc(number) == number) {
      // 2^63 and 2^64 are exact doubles; anything from there up does not fit.
      if (number < static_cast<double>(kMin) || number >= std::ldexp(1.0, std::numeric_limits<Integer>::digits)) {
        return out_of_range();
      }
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

}  // namespace

// ---------------------------------------------------------------------------
// Messages

Status FieldError(std::string_view path, std::string_view reason) {
  std::string message(path.empty() ? "(document)" : path);
  message += ": ";
  message += reason;
  return InvalidArgument(std::move(message));
}

std::string DumpJson(const Json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::string Describe(const Json& value) {
  std::string text = DumpJson(value);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string JoinAlternatives(const std::vector<std::string_view>& words) {
  std::string joined;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) joined += i + 1 == words.size() ? " or " : ", ";
    joined += words[i];
  }
  return joined;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view NearestMatch(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view nearest;
  size_t nearest_distance = 3;  // suggest only near misses
  for (std::string_view candidate : candidates) {
    size_t distance = EditDistance(word, candidate);
    if (distance < nearest_distance) nearest = candidate, nearest_distance = distance;
  }
  return nearest;
}

// ---------------------------------------------------------------------------
// Typed readers

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

Status Read(const Json& value, const std::string& path, int* out) { return ReadInteger(value, path, out); }
Status Read(const Json& value, const std::string& path, int64_t* out) { return ReadInteger(value, path, out); }
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
  if (value.is_number()) {
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

Status Read(const Json& value, const std::string& path, HostPort* out) {
  std::string text;
  WAL_RETURN_IF_ERROR(Read(value, path, &text));
  std::optional<HostPort> parsed = ParseHostPort(text);
  if (!parsed) return FieldError(path, "must be host:port, got " + Quoted(text));
  *out = std::move(*parsed);
  return Status::Ok();
}

Status ReadStringMap(const Json& value, const std::string& path, std::map<std::string, std::string>* out,
                     bool scalars_as_text) {
  if (!value.is_object()) return FieldError(path, "must be a mapping, got " + Describe(value));
  std::map<std::string, std::string> entries;
  for (const auto& [key, element] : value.items()) {
    if (element.is_string()) {
      entries[key] = element.get<std::string>();
    } else if (scalars_as_text && (element.is_number() || element.is_boolean())) {
      entries[key] = DumpJson(element);
    } else {
      return FieldError(path + "." + key, "must be a string, got " + Describe(element));
    }
  }
  *out = std::move(entries);
  return Status::Ok();
}

Status Read(const Json& value, const std::string& path, std::map<std::string, std::string>* out) {
  return ReadStringMap(value, path, out, /*scalars_as_text=*/true);
}

// ---------------------------------------------------------------------------
// ObjectReader

Result<ObjectReader> ObjectReader::Open(const Json& value, std::string path) {
  if (value.is_null()) return ObjectReader(nullptr, std::move(path));
  if (!value.is_object()) return FieldError(path, "must be a mapping of fields, got " + Describe(value));
  return ObjectReader(&value, std::move(path));
}

std::string ObjectReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const Json* ObjectReader::Take(std::string_view key) {
  known_.emplace(key);
  if (object_ == nullptr) return nullptr;
  auto found = object_->find(std::string(key));
  if (found == object_->end() || found->is_null()) return nullptr;
  return &*found;
}

Status ObjectReader::TakeWithAlias(std::string_view key, std::string_view alias, const Json** value,
                                   std::string* path) {
  const Json* canonical = Take(key);
  const Json* aliased = Take(alias);
  if (canonical != nullptr && aliased != nullptr) {
    return FieldError(PathOf(alias), "is an alias of " + Quoted(key) + "; set only one of them");
  }
  *value = canonical != nullptr ? canonical : aliased;
  *path = PathOf(canonical != nullptr ? key : alias);
  return Status::Ok();
}

std::vector<std::string_view> ObjectReader::KnownKeys() const { return {known_.begin(), known_.end()}; }

std::vector<std::string> ObjectReader::UnknownKeys() const {
  std::vector<std::string> unknown;
  if (object_ == nullptr) return unknown;
  for (const auto& [key, value] : object_->items()) {
    if (!known_.contains(key)) unknown.push_back(key);
  }
  return unknown;
}

Status ObjectReader::RejectUnknownFields(const std::function<std::string(std::string_view key)>& explain) const {
  std::vector<std::string> unknown = UnknownKeys();
  if (unknown.empty()) return Status::Ok();
  const std::string& key = unknown.front();
  std::string reason = "unknown field " + Quoted(key);
  std::string_view nearest = NearestMatch(key, KnownKeys());
  if (!nearest.empty()) {
    reason += " (did you mean " + Quoted(nearest) + "?)";
  } else if (explain) {
    if (std::string explained = explain(key); !explained.empty()) reason = std::move(explained);
  }
  return FieldError(PathOf(key), reason);
}

Result<ObjectReader> OpenChild(ObjectReader& parent, std::string_view key) {
  const Json* value = parent.Take(key);
  static const Json kAbsent;
  return ObjectReader::Open(value == nullptr ? kAbsent : *value, parent.PathOf(key));
}

// ---------------------------------------------------------------------------
// Value checks

Status CheckDurationRange(std::string_view path, Milliseconds value, Milliseconds min, Milliseconds max) {
  if (value >= min && value <= max) return Status::Ok();
  return FieldError(path, "must be in " + FormatDuration(min) + ".." + FormatDuration(max) + ", got " +
                              FormatDuration(value));
}

Status CheckNotNegative(std::string_view path, Milliseconds value) {
  if (value.count() >= 0) return Status::Ok();
  return FieldError(path, "must be >= 0s, got " + FormatDuration(value));
}

Status CheckPositive(std::string_view path, Milliseconds value) {
  if (value.count() > 0) return Status::Ok();
  return FieldError(path, "must be > 0s, got " + FormatDuration(value));
}

Status CheckRequired(std::string_view path, std::string_view value, std::string_view whose) {
  if (!value.empty()) return Status::Ok();
  return FieldError(path, "required for " + std::string(whose));
}

Status CheckHostPort(std::string_view path, std::string_view text) {
  if (ParseHostPort(text)) return Status::Ok();
  return FieldError(path, "must be host:port, got " + Quoted(text));
}

bool IsHttpUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.starts_with(scheme) && url.size() > scheme.size() && url[scheme.size()] != '/') return true;
  }
  return false;
}

bool IsQueueName(std::string_view name) {
  if (name.empty() || name.size() > 249) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
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

}  // namespace wal::config
