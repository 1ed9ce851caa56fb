// Helpers for a target's settings struct (module_config.h's shape) and the
// FromSettings conveniences built on it.
//
// Internal to the targets; nothing here throws.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "config/module_config.h"
#include "config/object_reader.h"

namespace wal::target {

// "target.<key>: <reason>" as kInvalidArgument, for what a target finds when
// it is built (after its settings were validated).
inline Status SettingError(std::string_view key, std::string_view reason) {
  return InvalidArgument("target." + std::string(key) + ": " + std::string(reason));
}

// Decodes and validates a target's settings from JSON text holding only the
// settings (no "type"), exactly as the namespace parser reads them at
// `target`: for FromSettings, tests and tools.
template <typename Settings>
Result<Settings> DecodeTargetSettings(std::string_view json_text) {
  auto tree = config::JsonTextToJson(json_text);
  if (!tree.ok()) return InvalidArgument("target: settings are not valid JSON: " + tree.status().message());
  if (!tree->is_object()) return InvalidArgument("target: settings must be a mapping, got " + config::Describe(*tree));
  WAL_ASSIGN_OR_RETURN(config::ObjectReader reader, config::ObjectReader::Open(*tree, "target"));
  Settings settings;
  WAL_RETURN_IF_ERROR(settings.Read(reader, config::DecodeContext{}));
  WAL_RETURN_IF_ERROR(reader.RejectUnknownFields());
  WAL_RETURN_IF_ERROR(settings.Validate("target"));
  return settings;
}

// A target's Options (which extend its settings struct with what is not
// configured: pools, clocks) with the settings filled in.
template <typename Options, typename Settings>
Options OptionsWith(const Settings& settings) {
  Options options;
  static_cast<Settings&>(options) = settings;
  return options;
}

// FromSettings for a target whose Options extend `Settings`.
template <typename TargetClass, typename Settings>
auto CreateFromSettingsJson(std::string_view json_text)
    -> decltype(TargetClass::Create(typename TargetClass::Options{})) {
  WAL_ASSIGN_OR_RETURN(Settings settings, DecodeTargetSettings<Settings>(json_text));
  return TargetClass::Create(OptionsWith<typename TargetClass::Options>(settings));
}

}  // namespace wal::target
