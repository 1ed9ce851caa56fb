// The namespace config loader over arbitrary text, in YAML and in JSON, and
// the admin API's JSON path. A config either parses or gets an error naming
// where it is wrong; one that parses must be valid and must survive a save and
// a reload unchanged in both formats (config.h promises
// ParseNamespace(SaveNamespace(c, f), f, ...) == c).
//
// Input: byte 0 picks the loader (0: YAML, 1: JSON, 2: NamespaceFromJson,
// 3: TargetFromJson, a per-request target override); the rest is the document.
// Module sections decode through the catalog of every built-in module.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"
#include "modules/builtin_modules.h"

namespace {

using namespace wal;
using namespace wal::config;

// Every module of the build, as wald decodes namespace files with.
const ModuleCatalog& Catalog() { return modules::BuiltinModules().catalog(); }

void CheckRoundTrips(const NamespaceConfig& parsed) {
  FUZZ_CHECK(ValidateNamespace(parsed).ok());
  for (Format format : {Format::kYaml, Format::kJson}) {
    auto reloaded = ParseNamespace(SaveNamespace(parsed, format), format, "saved", Catalog());
    FUZZ_CHECK(reloaded.ok());
    FUZZ_CHECK(*reloaded == parsed);
  }
  auto from_json = NamespaceFromJson(NamespaceToJson(parsed), "admin", Catalog());
  FUZZ_CHECK(from_json.ok());
  FUZZ_CHECK(*from_json == parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 4 == 3) {
    auto target = TargetFromJson(text, "target", Catalog());
    FUZZ_CHECK(target.ok() || !target.status().message().empty());
    return 0;
  }
  Result<NamespaceConfig> parsed = InvalidArgument("unset");
  switch (data[0] % 4) {
    case 0: parsed = ParseNamespace(text, Format::kYaml, "fuzz.yaml", Catalog()); break;
    case 1: parsed = ParseNamespace(text, Format::kJson, "fuzz.json", Catalog()); break;
    default: parsed = NamespaceFromJson(text, "config", Catalog()); break;
  }
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty());
    return 0;
  }
  CheckRoundTrips(*parsed);
  return 0;
}
