// YAML <-> JSON tree conversion for the config loader and saver.
//
// The config schema is decoded from a JSON tree only, so YAML is first turned
// into that tree. YAML scalars are untyped text until a schema gives them a type
// ("10" may be a string field, an integer or a duration), so in schema-typed
// regions plain scalars stay strings and the decoder converts them by the field's
// expected type. Free-form regions (a target's settings) have no schema here, so
// their plain scalars are typed the YAML 1.2 core way (true/false, integers,
// floats, null). Quoted scalars are always strings.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace wal::config {

// Insertion-ordered so saved files list fields in schema order, not alphabetically.
using Json = nlohmann::ordered_json;

enum class Format { kYaml, kJson };

// Parses YAML `text` into a JSON tree. `free_form_paths` are dotted paths (e.g.
// "target") whose subtrees get YAML core typing. Errors carry the reason and,
// for syntax errors, the line and column; never throws.
Result<Json> YamlTextToJson(std::string_view text, const std::set<std::string>& free_form_paths);

// Parses JSON `text`; never throws.
Result<Json> JsonTextToJson(std::string_view text);

// Emits `tree` as block-style YAML that YamlTextToJson reads back to the same
// tree: strings that would otherwise read as null, bools or numbers are quoted.
std::string JsonToYamlText(const Json& tree);

// Config text in `format` to its tree, every YAML scalar schema-typed (a
// string until a reader gives it a type); never throws.
Result<Json> ParseTree(std::string_view text, Format format);
// The tree as config text: YAML, or JSON indented by two with a final newline.
std::string RenderTree(const Json& tree, Format format);

}  // namespace wal::config
