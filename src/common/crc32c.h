// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected 0x82F63B78).
//
// The log checksums every record with CRC32C because x86 computes it in hardware
// (SSE4.2 crc32 instruction) at many GB/s; a table-driven fallback is used on CPUs
// without it. Both paths produce identical values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wal::crc32c {

// Returns the CRC32C of the concatenation of the data `crc` covers and data[0, n).
// Extend(0, data, n) == Value(data, n).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// The portable implementation, exposed so tests can compare it with the hardware one.
uint32_t ExtendSoftware(uint32_t crc, const void* data, size_t n);

// True when Extend uses the SSE4.2 instruction.
bool HardwareAccelerated();

// A CRC stored next to the data it covers is masked (as LevelDB does) because the
// CRC of a string that contains its own CRC is weak: masking makes stored CRCs look
// unlike CRCs of their surroundings, e.g. when a record payload itself holds records.
inline constexpr uint32_t kMaskDelta = 0xa282ead8u;

inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

inline uint32_t Unmask(uint32_t masked) {
  uint32_t rotated = masked - kMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace wal::crc32c
