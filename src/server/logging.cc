#include "server/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <random>

#include "common/log_context.h"

namespace wal::server {
namespace {

thread_local const std::string* current_request_id = nullptr;

void AppendJsonEscaped(std::string_view text, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    switch (c) {
      case '"': dest.append(std::string_view("\\\"")); break;
      case '\\': dest.append(std::string_view("\\\\")); break;
      case '\n': dest.append(std::string_view("\\n")); break;
      case '\r': dest.append(std::string_view("\\r")); break;
      case '\t': dest.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          const char escaped[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
          dest.append(escaped, escaped + sizeof(escaped));
        } else {
          dest.push_back(c);
        }
    }
  }
}

// %* -> "msg":"<escaped message>"[,"namespace":"<name>"][,"request_id":"<id>"]
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& message, const std::tm&, spdlog::memory_buf_t& dest) override {
    dest.append(std::string_view("\"msg\":\""));
    AppendJsonEscaped(std::string_view(message.payload.data(), message.payload.size()), dest);
    dest.push_back('"');
    if (const std::string& name = CurrentLogNamespace(); !name.empty()) {
      dest.append(std::string_view(",\"namespace\":\""));
      AppendJsonEscaped(name, dest);
      dest.push_back('"');
    }
    if (current_request_id != nullptr && !current_request_id->empty()) {
      dest.append(std::string_view(",\"request_id\":\""));
      AppendJsonEscaped(*current_request_id, dest);
      dest.push_back('"');
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

// %& -> " request_id=<id>" in text logs when a request is active.
class TextRequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    if (current_request_id == nullptr || current_request_id->empty()) return;
    dest.append(std::string_view(" request_id="));
    dest.append(*current_request_id);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<TextRequestIdFlag>(); }
};

}  // namespace

Status ConfigureLogging(const std::string& level, const std::string& format) {
  std::unique_ptr<spdlog::pattern_formatter> formatter;
  if (format == "json") {
    formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"wald",%*})");
  } else if (format == "text" || format.empty()) {
    formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<TextRequestIdFlag>('&').set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v%&");
  } else {
    return InvalidArgument("log_format: must be text or json, got '" + format + "'");
  }
  spdlog::set_formatter(std::move(formatter));
  spdlog::set_level(spdlog::level::from_str(level));
  return Status::Ok();
}

std::string NewRequestId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(generator()));
  return text;
}

std::string RequestIdFrom(std::string_view offered) {
  if (offered.empty() || offered.size() > 128) return NewRequestId();
  for (char c : offered) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') return NewRequestId();
  }
  return std::string(offered);
}

RequestIdScope::RequestIdScope(std::string id) : id_(std::move(id)), previous_(current_request_id) {
  current_request_id = &id_;
}
RequestIdScope::~RequestIdScope() { current_request_id = previous_; }

void SetThreadRequestId(const std::string& id) {
  thread_local std::string storage;
  storage = id;
  current_request_id = storage.empty() ? nullptr : &storage;
}

const std::string& CurrentRequestId() {
  static const std::string kNone;
  return current_request_id != nullptr ? *current_request_id : kNone;
}

}  // namespace wal::server
