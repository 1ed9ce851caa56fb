// The server config loader over arbitrary YAML and JSON: it parses or names
// the problem; a config that parses is valid and survives a save and a reload
// unchanged in both formats.
//
// Input: byte 0 picks the format (even: YAML, odd: JSON); the rest is the document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wal::config;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Format format = data[0] % 2 == 0 ? Format::kYaml : Format::kJson;
  auto parsed = ParseServerConfig(text, format, "server");
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(ValidateServerConfig(*parsed).ok());
  for (Format saved_format : {Format::kYaml, Format::kJson}) {
    auto reloaded = ParseServerConfig(SaveServerConfig(*parsed, saved_format), saved_format, "saved");
    FUZZ_CHECK(reloaded.ok());
    FUZZ_CHECK(*reloaded == *parsed);
  }
  return 0;
}
