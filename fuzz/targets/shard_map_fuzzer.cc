// The shard-map file over arbitrary YAML and JSON, and the request gate
// routing with whatever map parses: every namespace a shard lists is routed to
// that shard, a misdirected call always names an address, and nothing else is
// refused.
//
// Input: byte 0 picks the format (even: YAML, odd: JSON); the rest is the map.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "engine_fixture.h"
#include "fuzz_check.h"
#include "server/request_gate.h"
#include "server/shard_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wal;
  using namespace wal::server;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const config::Format format = data[0] % 2 == 0 ? config::Format::kYaml : config::Format::kJson;
  auto parsed = ShardMap::Parse(text, format, "shards");
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!parsed->shards().empty());
  FUZZ_CHECK(parsed->text() == text);
  const std::string self = parsed->shards().begin()->first;
  FUZZ_CHECK(parsed->CheckLists(self, "shards").ok());

  auto holder = std::make_shared<Swappable<ShardMap>>();
  holder->Set(std::make_shared<const ShardMap>(*parsed));
  RequestGate gate(&fuzz::EngineFixture::Get().engine(), nullptr, holder, self);
  for (const auto& [name, shard] : parsed->shards()) {
    FUZZ_CHECK(shard.name == name);
    FUZZ_CHECK(!shard.addresses.empty());
    for (const std::string& listed : shard.namespaces) {
      FUZZ_CHECK(parsed->ShardOf(listed) == &shard);
      Admission admission = gate.Admit("", listed, Scope::kRead);
      if (name == self) {
        FUZZ_CHECK(!admission.misdirected());
      } else {
        FUZZ_CHECK(admission.misdirected());
        FUZZ_CHECK(admission.address == shard.addresses.front());
        FUZZ_CHECK(admission.status.code() == StatusCode::kFailedPrecondition);
      }
    }
  }
  // A namespace no shard lists is not routed. (The input may list the probe
  // name itself: the property only holds when no shard does.)
  if (parsed->ShardOf("\x01unlisted") == nullptr) {
    FUZZ_CHECK(!gate.Admit("", "\x01unlisted", Scope::kRead).misdirected());
  }
  return 0;
}
