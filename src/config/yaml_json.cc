#include "config/yaml_json.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>

#include <yaml-cpp/yaml.h>

#include "common/utf8.h"

namespace wal::config {
namespace {

enum class ScalarTyping { kSchema, kYamlCore };

bool IsNullText(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

// Digits, optional fraction and exponent, with at least a '.' or an exponent:
// only these become floats, so "inf", "0x1F" and "1_000" stay strings.
bool LooksLikeFloat(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  size_t digits = 0;
  bool fraction_or_exponent = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    fraction_or_exponent = true;
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    fraction_or_exponent = true;
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    size_t exponent_digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++exponent_digits;
    if (exponent_digits == 0) return false;
  }
  return fraction_or_exponent && i == text.size();
}

// YAML 1.2 core-schema typing of a plain scalar.
Json TypePlainScalar(const std::string& text) {
  if (IsNullText(text)) return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  int64_t signed_value = 0;
  if (auto [ptr, error] = std::from_chars(begin, end, signed_value); error == std::errc() && ptr == end) {
    return signed_value;
  }
  uint64_t unsigned_value = 0;
  if (auto [ptr, error] = std::from_chars(begin, end, unsigned_value); error == std::errc() && ptr == end) {
    return unsigned_value;
  }
  if (LooksLikeFloat(text)) {
    double value = 0;
    if (auto [ptr, error] = std::from_chars(begin, end, value); error == std::errc() && ptr == end) return value;
  }
  return text;
}

std::string ChildPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string Where(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) + ": ";
}

// yaml-cpp decodes the double-quoted escapes \N (U+0085) and \_ (U+00A0) to
// the single bytes 0x85 and 0xA0, which are not UTF-8 (every other escape it
// encodes as UTF-8). The text was checked to be UTF-8 before parsing, so a
// byte outside a sequence can only come from those two escapes: it is encoded
// as the character it stands for. Anything else that is still not UTF-8 is an
// error, since the value could not be saved and read back.
Result<std::string> ScalarAsUtf8(const std::string& text, const YAML::Mark& mark, const std::string& path) {
  if (IsValidUtf8(text)) return text;
  std::string out;
  out.reserve(text.size() + 8);
  int continuation = 0;  // bytes still expected in the current sequence
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (continuation > 0 && (byte & 0xC0) == 0x80) {
      --continuation;
    } else if (byte == 0x85 || byte == 0xA0) {
      continuation = 0;
      out.push_back(static_cast<char>(0xC2));
    } else {
      continuation = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : 0;
    }
    out.push_back(c);
  }
  if (!IsValidUtf8(out)) {
    return InvalidArgument(Where(mark) + (path.empty() ? "" : path + ": ") + "the value is not valid UTF-8");
  }
  return out;
}

// Aliases make the node graph a DAG, or a cycle when an anchored collection
// holds an alias to itself, so a short text can stand for a tree of any size or
// depth: converting it would recurse until the stack overflows, or allocate
// without end. No config comes near either bound.
inline constexpr int kMaxNestingDepth = 64;
inline constexpr size_t kMaxValues = 100000;

struct ConvertBudget {
  size_t values = 0;
};

Result<Json> ConvertNode(const YAML::Node& node, const std::string& path, ScalarTyping typing,
                         const std::set<std::string>& free_form_paths, ConvertBudget& budget, int depth) {
  if (depth > kMaxNestingDepth) {
    // The mark names the place; a path 64 levels long would not help.
    return InvalidArgument(Where(node.Mark()) + "nested more than " + std::to_string(kMaxNestingDepth) +
                           " levels deep (an alias inside the collection it names?)");
  }
  if (++budget.values > kMaxValues) {
    return InvalidArgument(Where(node.Mark()) + (path.empty() ? "" : path + ": ") + "the document holds more than " +
                           std::to_string(kMaxValues) + " values (aliases expand to copies of what they name)");
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return Json(nullptr);
    case YAML::NodeType::Scalar: {
      WAL_ASSIGN_OR_RETURN(const std::string text, ScalarAsUtf8(node.Scalar(), node.Mark(), path));
      // yaml-cpp tags plain (unquoted, untagged) scalars "?"; quoted ones "!".
      bool plain = node.Tag() == "?";
      if (!plain) return Json(text);
      if (typing == ScalarTyping::kYamlCore) return TypePlainScalar(text);
      if (IsNullText(text)) return Json(nullptr);
      return Json(text);
    }
    case YAML::NodeType::Sequence: {
      Json array = Json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        WAL_ASSIGN_OR_RETURN(Json element,
                             ConvertNode(node[i], path + "[" + std::to_string(i) + "]", typing, free_form_paths, budget,
                                         depth + 1));
        array.push_back(std::move(element));
      }
      return array;
    }
    case YAML::NodeType::Map: {
      Json object = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          return InvalidArgument(Where(entry.first.Mark()) + (path.empty() ? "" : path + ": ") +
                                 "mapping keys must be plain strings");
        }
        WAL_ASSIGN_OR_RETURN(const std::string key, ScalarAsUtf8(entry.first.Scalar(), entry.first.Mark(), path));
        std::string child_path = ChildPath(path, key);
        if (object.contains(key)) {
          return InvalidArgument(Where(entry.first.Mark()) + child_path + ": duplicate key '" + key + "'");
        }
        // "<path>.*" in free_form_paths marks every child of <path> free-form.
        const bool free_form = free_form_paths.contains(child_path) || free_form_paths.contains(ChildPath(path, "*"));
        ScalarTyping child_typing = typing == ScalarTyping::kSchema && free_form ? ScalarTyping::kYamlCore : typing;
        WAL_ASSIGN_OR_RETURN(Json value,
                             ConvertNode(entry.second, child_path, child_typing, free_form_paths, budget, depth + 1));
        object[key] = std::move(value);
      }
      return object;
    }
  }
  return Json(nullptr);
}

// Shortest text that reads back as the same double, and always reads back as a
// float (never an integer), so free-form settings keep their JSON type.
std::string FormatDouble(double value) {
  if (!std::isfinite(value)) return value > 0 ? ".inf" : (value < 0 ? "-.inf" : ".nan");
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, error == std::errc() ? end : buffer);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text;
}

bool IsScalar(const Json& value) { return !value.is_object() && !value.is_array(); }

void Emit(YAML::Emitter& out, const Json& value) {
  if (value.is_object()) {
    if (value.empty()) {
      out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out << YAML::BeginMap;
    for (const auto& [key, child] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      Emit(out, child);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    // Short lists of scalars read best inline: topics: [a, b].
    bool all_scalars = std::all_of(value.begin(), value.end(), IsScalar);
    if (all_scalars) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const Json& element : value) Emit(out, element);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    // Quote anything a reader would type as something other than this string,
    // and anything holding a control character: in a double-quoted string
    // each is written as its escape, whereas yaml-cpp writes a CR raw in a
    // plain scalar, which reads back as a line break (and is refused).
    const bool has_control = std::any_of(text.begin(), text.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20;
    });
    if (has_control || !TypePlainScalar(text).is_string()) {
      out << YAML::DoubleQuoted << text;
    } else {
      out << text;
    }
  } else if (value.is_boolean()) {
    out << value.get<bool>();
  } else if (value.is_number_unsigned()) {
    out << value.get<uint64_t>();
  } else if (value.is_number_integer()) {
    out << value.get<int64_t>();
  } else if (value.is_number_float()) {
    out << FormatDouble(value.get<double>());
  } else {
    out << YAML::Null;
  }
}

std::string CodePointName(uint32_t code_point) {
  char name[16];
  std::snprintf(name, sizeof(name), "U+%04X", static_cast<unsigned>(code_point));
  return name;
}

// Every key and string of `value` is free of Unicode noncharacters: the YAML
// writer replaces them with U+FFFD, so a config holding one would change on its
// first save (the admin API, a config store) without anyone asking.
Status RejectNoncharacters(const Json& value, const std::string& path) {
  auto refuse = [](const std::string& where, uint32_t code_point) {
    return InvalidArgument((where.empty() ? "" : where + ": ") + "holds " + CodePointName(code_point) +
                           ", a Unicode noncharacter, which config text may not contain");
  };
  if (value.is_string()) {
    if (uint32_t found = FirstNoncharacter(value.get_ref<const std::string&>())) return refuse(path, found);
  } else if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      const std::string child_path = ChildPath(path, key);
      if (uint32_t found = FirstNoncharacter(key)) return refuse(child_path, found);
      WAL_RETURN_IF_ERROR(RejectNoncharacters(child, child_path));
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      WAL_RETURN_IF_ERROR(RejectNoncharacters(value[i], path + "[" + std::to_string(i) + "]"));
    }
  }
  return Status::Ok();
}

// YAML allows no raw C0 control character but tab and the line breaks (YAML
// 1.2, section 5.1); an escape in a double-quoted string is how one is written.
// yaml-cpp does not refuse them: it misreads a NUL and the byte after it, so a
// config holding one would load as something other than what was written.
// (DEL is left alone: yaml-cpp reads it back intact and writes it raw itself.)
Status RejectRawControlCharacters(std::string_view text) {
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char byte = static_cast<unsigned char>(text[i]);
    if (byte == '\n') ++line;
    // YAML reads a lone CR as a line break; yaml-cpp does not, and a value
    // that ran on past one changed on its first save.
    if (byte == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) {
      return InvalidArgument("line " + std::to_string(line) +
                             ": invalid YAML: a carriage return not followed by a line feed; end lines with LF or "
                             "CRLF, or write it as the escape \\r in a double-quoted string");
    }
    if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\x%02x", static_cast<unsigned>(byte));
      return InvalidArgument("line " + std::to_string(line) + ": invalid YAML: the text holds the control character " +
                             CodePointName(byte) + "; write it as the escape " + escape + " in a double-quoted string");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Json> YamlTextToJson(std::string_view text, const std::set<std::string>& free_form_paths) {
  // yaml-cpp passes any bytes through; the JSON side (saving, the admin API) needs UTF-8.
  if (!IsValidUtf8(text)) return InvalidArgument("invalid YAML: the text is not valid UTF-8");
  WAL_RETURN_IF_ERROR(RejectRawControlCharacters(text));
  try {
    YAML::Node root = YAML::Load(std::string(text));
    ConvertBudget budget;
    WAL_ASSIGN_OR_RETURN(Json tree, ConvertNode(root, "", ScalarTyping::kSchema, free_form_paths, budget, 0));
    WAL_RETURN_IF_ERROR(RejectNoncharacters(tree, ""));
    return tree;
  } catch (const YAML::Exception& error) {
    return InvalidArgument(Where(error.mark) + "invalid YAML: " + error.msg);
  } catch (const std::exception& error) {
    return InvalidArgument(std::string("invalid YAML: ") + error.what());
  }
}

Result<Json> JsonTextToJson(std::string_view text) {
  try {
    Json tree = Json::parse(text.begin(), text.end());
    WAL_RETURN_IF_ERROR(RejectNoncharacters(tree, ""));
    return tree;
  } catch (const nlohmann::json::parse_error& error) {
    // what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."; drop the id.
    std::string reason = error.what();
    if (size_t bracket = reason.find("] "); bracket != std::string::npos) reason = reason.substr(bracket + 2);
    return InvalidArgument("invalid JSON: " + reason);
  } catch (const std::exception& error) {
    return InvalidArgument(std::string("invalid JSON: ") + error.what());
  }
}

std::string JsonToYamlText(const Json& tree) {
  YAML::Emitter out;
  out.SetIndent(2);
  Emit(out, tree);
  std::string text(out.c_str(), out.size());
  text += '\n';
  return text;
}

Result<Json> ParseTree(std::string_view text, Format format) {
  return format == Format::kJson ? JsonTextToJson(text) : YamlTextToJson(text, {});
}

std::string RenderTree(const Json& tree, Format format) {
  if (format == Format::kJson) return tree.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace) + "\n";
  return JsonToYamlText(tree);
}

}  // namespace wal::config
