// The queue envelope: the payload the local backend writes into each record of
// its embedded logs (docs/log-format.md, "Queue envelope"). All integers are
// little-endian.
//
//   ENTRY   0  u8  kind 'E' (0x45)
//           1  u8  flags: bit 0 = supersedes present, bit 1 = source present; others 0
//           2  i64 due time, unix milliseconds
//           10 u64 supersedes (if flag bit 0): id of an older entry this one replaces
//           .. u64 source (if flag bit 1): DLQ only, the main-log id it came from
//           .. u32 ordering key length, then the key bytes
//           .. the record bytes (the rest of the payload)
//
//   RETIRE  0  u8  kind 'R' (0x52)
//           1  u8  flags: bit 0 = outcomes recorded; others 0
//           2  u32 count
//           6  count x u64 ids that are done
//           .. u32 dead count d (if flag bit 0): the last d ids were
//              dead-lettered, the others delivered; without the flag (older
//              binaries, and the DLQ's own RETIREs) the outcome is not recorded
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wal::queue::local {

enum class EnvelopeKind : uint8_t { kEntry = 0x45, kRetire = 0x52 };

inline constexpr uint8_t kFlagSupersedes = 0x1;
inline constexpr uint8_t kFlagSource = 0x2;
inline constexpr uint8_t kFlagOutcomes = 0x1;  // RETIRE
inline constexpr size_t kMaxOrderingKeyBytes = 32u << 10;
// Room for the envelope around a record: header fields plus the longest key.
inline constexpr size_t kEnvelopeOverheadBytes = 64 + kMaxOrderingKeyBytes;

struct Envelope {
  EnvelopeKind kind = EnvelopeKind::kEntry;
  // ENTRY
  int64_t due_ms = 0;
  std::optional<uint64_t> supersedes;
  std::optional<uint64_t> source;
  std::string_view ordering_key;  // points into the parsed payload
  std::string_view record;        // points into the parsed payload
  // RETIRE: `retired_count` little-endian u64 ids, back to back
  std::string_view retired_raw;
  uint32_t retired_count = 0;
  bool outcomes = false;      // flag bit 0: the ids below say how each ended
  uint32_t delivered_count = 0;  // with `outcomes`: ids [0, delivered_count) were delivered, the rest dead-lettered

  uint64_t RetiredId(uint32_t i) const;
};

namespace envelope_internal {
inline void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
}  // namespace envelope_internal

inline uint64_t Envelope::RetiredId(uint32_t i) const { return envelope_internal::GetU64(retired_raw.data() + 8 * i); }

inline std::string EncodeEntry(int64_t due_ms, std::optional<uint64_t> supersedes, std::optional<uint64_t> source,
                               std::string_view ordering_key, std::string_view record) {
  using namespace envelope_internal;
  std::string out;
  out.reserve(32 + ordering_key.size() + record.size());
  out.push_back(static_cast<char>(EnvelopeKind::kEntry));
  uint8_t flags = (supersedes ? kFlagSupersedes : 0) | (source ? kFlagSource : 0);
  out.push_back(static_cast<char>(flags));
  PutU64(&out, static_cast<uint64_t>(due_ms));
  if (supersedes) PutU64(&out, *supersedes);
  if (source) PutU64(&out, *source);
  PutU32(&out, static_cast<uint32_t>(ordering_key.size()));
  out.append(ordering_key);
  out.append(record);
  return out;
}

// A RETIRE without outcomes: the DLQ's purges and redrives, where how an
// entry ended is not a delivery.
inline std::string EncodeRetire(std::span<const uint64_t> ids) {
  using namespace envelope_internal;
  std::string out;
  out.reserve(6 + 8 * ids.size());
  out.push_back(static_cast<char>(EnvelopeKind::kRetire));
  out.push_back(0);
  PutU32(&out, static_cast<uint32_t>(ids.size()));
  for (uint64_t id : ids) PutU64(&out, id);
  return out;
}

// A main-log RETIRE that records how each entry ended: `delivered` were
// delivered, `dead_lettered` were moved to the DLQ.
inline std::string EncodeRetireWithOutcomes(std::span<const uint64_t> delivered,
                                            std::span<const uint64_t> dead_lettered) {
  using namespace envelope_internal;
  std::string out;
  out.reserve(10 + 8 * (delivered.size() + dead_lettered.size()));
  out.push_back(static_cast<char>(EnvelopeKind::kRetire));
  out.push_back(static_cast<char>(kFlagOutcomes));
  PutU32(&out, static_cast<uint32_t>(delivered.size() + dead_lettered.size()));
  for (uint64_t id : delivered) PutU64(&out, id);
  for (uint64_t id : dead_lettered) PutU64(&out, id);
  PutU32(&out, static_cast<uint32_t>(dead_lettered.size()));
  return out;
}

// Parses the envelope stored at log id `id`; any framing error is kCorruption
// naming the id.
inline Status DecodeEnvelope(uint64_t id, std::string_view payload, Envelope* out) {
  using namespace envelope_internal;
  auto bad = [id](std::string_view what) {
    return Corruption("queue envelope at log id " + std::to_string(id) + ": " + std::string(what));
  };
  if (payload.size() < 2) return bad("shorter than its header");
  const uint8_t kind = static_cast<uint8_t>(payload[0]);
  const uint8_t flags = static_cast<uint8_t>(payload[1]);
  *out = Envelope{};
  if (kind == static_cast<uint8_t>(EnvelopeKind::kEntry)) {
    out->kind = EnvelopeKind::kEntry;
    if ((flags & ~(kFlagSupersedes | kFlagSource)) != 0) return bad("unknown ENTRY flags");
    size_t pos = 2;
    auto need = [&](size_t n) { return payload.size() - pos >= n; };
    if (!need(8)) return bad("ENTRY cut short in the due time");
    out->due_ms = static_cast<int64_t>(GetU64(payload.data() + pos));
    pos += 8;
    if (flags & kFlagSupersedes) {
      if (!need(8)) return bad("ENTRY cut short in supersedes");
      out->supersedes = GetU64(payload.data() + pos);
      pos += 8;
    }
    if (flags & kFlagSource) {
      if (!need(8)) return bad("ENTRY cut short in source");
      out->source = GetU64(payload.data() + pos);
      pos += 8;
    }
    if (!need(4)) return bad("ENTRY cut short in the key length");
    const uint32_t key_length = GetU32(payload.data() + pos);
    pos += 4;
    if (!need(key_length)) return bad("ENTRY key length exceeds the payload");
    out->ordering_key = payload.substr(pos, key_length);
    pos += key_length;
    out->record = payload.substr(pos);
    return Status::Ok();
  }
  if (kind == static_cast<uint8_t>(EnvelopeKind::kRetire)) {
    out->kind = EnvelopeKind::kRetire;
    if ((flags & ~kFlagOutcomes) != 0) return bad("unknown RETIRE flags");
    out->outcomes = (flags & kFlagOutcomes) != 0;
    if (payload.size() < 6) return bad("RETIRE cut short in the count");
    out->retired_count = GetU32(payload.data() + 2);
    const uint64_t trailer = out->outcomes ? 4 : 0;
    if ((payload.size() - 6) != 8ull * out->retired_count + trailer) return bad("RETIRE length does not match its count");
    out->retired_raw = payload.substr(6, 8ull * out->retired_count);
    out->delivered_count = out->retired_count;
    if (out->outcomes) {
      const uint32_t dead = GetU32(payload.data() + payload.size() - 4);
      if (dead > out->retired_count) return bad("RETIRE dead-lettered count exceeds its count");
      out->delivered_count = out->retired_count - dead;
    }
    return Status::Ok();
  }
  return bad("unknown kind byte " + std::to_string(kind));
}

}  // namespace wal::queue::local
