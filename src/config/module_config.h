// The settings of one module (a queue backend, a target, a mutation-set
// store), held by the namespace config without config/ knowing their type.
//
// Each module declares its settings struct in its own folder
// (queue/kafka/kafka_config.h, target/sqlite/sqlite_config.h, ...) with this
// shape:
//
//   struct SqliteTargetConfig {
//     static constexpr std::string_view kType = "sqlite";  // the type name users write
//     std::string path;                                     // ... fields with their defaults
//     // Reads every field it knows from `reader` (types only; absent keeps the
//     // default) and leaves unknown ones for the caller to report.
//     Status Read(ObjectReader& reader, const DecodeContext& context);
//     // Ranges and cross-field rules; errors name `path` + "." + field.
//     Status Validate(const std::string& path) const;
//     // Every field, in schema order: decoding the result gives an equal struct.
//     void Write(Json& object) const;
//     bool operator==(const SqliteTargetConfig&) const = default;
//   };
//
// A module may also declare `static constexpr std::string_view kAliases[]`
// (other accepted spellings of its type name). ModuleConfig::Of wraps such a
// struct; the module catalog (module_catalog.h) decodes one by type name.
//
// Threading: ModuleConfig is a value. Copies share one immutable settings
// object, so copying is cheap and copies may be read from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "common/status.h"

namespace wal::config {

using Json = nlohmann::ordered_json;

// What a module's Read may use besides the keys themselves.
struct DecodeContext {
  std::string namespace_name;
};

namespace internal {

class AnySettings {
 public:
  virtual ~AnySettings() = default;
  virtual std::string_view type() const = 0;
  virtual Status Validate(const std::string& path) const = 0;
  virtual void Write(Json& object) const = 0;
  virtual bool Equals(const AnySettings& other) const = 0;
  virtual bool IsDefault() const = 0;
  virtual std::unique_ptr<AnySettings> Clone() const = 0;
};

template <typename T>
class TypedSettings final : public AnySettings {
 public:
  explicit TypedSettings(T value) : value_(std::move(value)) {}
  std::string_view type() const override { return T::kType; }
  Status Validate(const std::string& path) const override { return value_.Validate(path); }
  void Write(Json& object) const override { value_.Write(object); }
  bool Equals(const AnySettings& other) const override {
    auto* typed = dynamic_cast<const TypedSettings<T>*>(&other);
    return typed != nullptr && typed->value_ == value_;
  }
  bool IsDefault() const override { return value_ == T{}; }
  std::unique_ptr<AnySettings> Clone() const override { return std::make_unique<TypedSettings<T>>(value_); }
  const T& value() const { return value_; }
  T& mutable_value() { return value_; }

 private:
  T value_;
};

}  // namespace internal

class ModuleConfig {
 public:
  // Unset. What unset means is the owner's to say (BackendConfig: the local
  // backend with its defaults; TargetConfig: no target).
  ModuleConfig() = default;

  template <typename T>
  static ModuleConfig Of(T settings) {
    ModuleConfig config;
    config.settings_ = std::make_shared<const internal::TypedSettings<T>>(std::move(settings));
    return config;
  }

  bool empty() const { return settings_ == nullptr; }
  // The canonical type name; "" when unset.
  std::string_view type() const { return settings_ ? settings_->type() : std::string_view(); }

  // The settings when they are a T; nullptr when unset or another type.
  template <typename T>
  const T* As() const {
    auto* typed = dynamic_cast<const internal::TypedSettings<T>*>(settings_.get());
    return typed == nullptr ? nullptr : &typed->value();
  }
  // The settings when they are a T, else T's defaults (so an unset config
  // reads as the defaults of the type that unset stands for).
  template <typename T>
  const T& Get() const {
    static const T kDefaults{};
    const T* typed = As<T>();
    return typed == nullptr ? kDefaults : *typed;
  }
  // Makes these settings a T not shared with any copy (T's defaults when they
  // were unset or another type) and returns it for editing. For configs built
  // in code; validate them afterwards (ValidateNamespace). Take the reference
  // again after copying this config: copies made while it is held share edits.
  template <typename T>
  T& Mutable() {
    std::unique_ptr<internal::AnySettings> copy;
    if (As<T>() != nullptr) {
      copy = settings_->Clone();
    } else {
      copy = std::make_unique<internal::TypedSettings<T>>(T{});
    }
    auto* typed = static_cast<internal::TypedSettings<T>*>(copy.get());
    settings_ = std::shared_ptr<const internal::AnySettings>(std::move(copy));
    return typed->mutable_value();
  }

  // OK when unset.
  Status Validate(const std::string& path) const { return settings_ ? settings_->Validate(path) : Status::Ok(); }
  // Adds the settings' fields to `object`; nothing when unset.
  void Write(Json& object) const {
    if (settings_) settings_->Write(object);
  }
  // Unset, or equal to its type's defaults.
  bool IsDefault() const { return settings_ == nullptr || settings_->IsDefault(); }

  // Same type and equal fields; unset equals only unset.
  friend bool operator==(const ModuleConfig& left, const ModuleConfig& right) {
    if (left.settings_ == right.settings_) return true;
    if (left.settings_ == nullptr || right.settings_ == nullptr) return false;
    return left.settings_->Equals(*right.settings_);
  }

 private:
  std::shared_ptr<const internal::AnySettings> settings_;
};

}  // namespace wal::config
