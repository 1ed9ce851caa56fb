// The namespace config loader over arbitrary text, in YAML and in JSON, and
// the admin API's JSON path. A config either parses or gets an error naming
// where it is wrong; one that parses must be valid and must survive a save and
// a reload unchanged in both formats (config.h promises
// ParseNamespace(SaveNamespace(c, f), f, ...) == c).
//
// Input: byte 0 picks the loader (0: YAML, 1: JSON, 2: NamespaceFromJson);
// the rest is the document.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"

namespace {

using namespace wal;
using namespace wal::config;

void CheckRoundTrips(const NamespaceConfig& parsed) {
  FUZZ_CHECK(ValidateNamespace(parsed).ok());
  for (Format format : {Format::kYaml, Format::kJson}) {
    auto reloaded = ParseNamespace(SaveNamespace(parsed, format), format, "saved");
    FUZZ_CHECK(reloaded.ok());
    FUZZ_CHECK(*reloaded == parsed);
  }
  auto from_json = NamespaceFromJson(NamespaceToJson(parsed), "admin");
  FUZZ_CHECK(from_json.ok());
  FUZZ_CHECK(*from_json == parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  Result<NamespaceConfig> parsed = InvalidArgument("unset");
  switch (data[0] % 3) {
    case 0: parsed = ParseNamespace(text, Format::kYaml, "fuzz.yaml"); break;
    case 1: parsed = ParseNamespace(text, Format::kJson, "fuzz.json"); break;
    default: parsed = NamespaceFromJson(text, "config"); break;
  }
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty());
    return 0;
  }
  CheckRoundTrips(*parsed);
  return 0;
}
