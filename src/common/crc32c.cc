#include "common/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>
#define WAL_CRC32C_HAVE_X86 1
#else
#define WAL_CRC32C_HAVE_X86 0
#endif

namespace wal::crc32c {
namespace {

constexpr uint32_t kReflectedPolynomial = 0x82F63B78u;

// Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes,
// letting the software path consume 8 bytes per step.
struct SoftwareTables {
  std::array<std::array<uint32_t, 256>, 8> table{};
  constexpr SoftwareTables() {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      uint32_t crc = byte;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kReflectedPolynomial : 0u);
      table[0][byte] = crc;
    }
    for (uint32_t byte = 0; byte < 256; ++byte) {
      for (size_t k = 1; k < 8; ++k) {
        uint32_t previous = table[k - 1][byte];
        table[k][byte] = (previous >> 8) ^ table[0][previous & 0xFFu];
      }
    }
  }
};

constexpr SoftwareTables kTables;

uint64_t LoadLittleEndian64(const uint8_t* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;  // x86 and every target we build for are little-endian
}

#if WAL_CRC32C_HAVE_X86
__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t state = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7u) != 0) {
    state = _mm_crc32_u8(static_cast<uint32_t>(state), *p++);
    --n;
  }
  while (n >= 8) {
    state = _mm_crc32_u64(state, LoadLittleEndian64(p));
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    state = _mm_crc32_u8(static_cast<uint32_t>(state), *p++);
    --n;
  }
  return ~static_cast<uint32_t>(state);
}
#endif

using ExtendFunction = uint32_t (*)(uint32_t, const void*, size_t);

ExtendFunction ChooseImplementation() {
#if WAL_CRC32C_HAVE_X86
  if (__builtin_cpu_supports("sse4.2")) return &ExtendHardware;
#endif
  return &ExtendSoftware;
}

// A function-local static rather than a global so that Extend is usable from
// other translation units' static initialisers.
ExtendFunction Implementation() {
  static const ExtendFunction chosen = ChooseImplementation();
  return chosen;
}

}  // namespace

uint32_t ExtendSoftware(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t state = ~crc;
  const auto& t = kTables.table;
  while (n >= 8) {
    uint64_t word = LoadLittleEndian64(p) ^ state;
    state = t[7][word & 0xFF] ^ t[6][(word >> 8) & 0xFF] ^ t[5][(word >> 16) & 0xFF] ^
            t[4][(word >> 24) & 0xFF] ^ t[3][(word >> 32) & 0xFF] ^ t[2][(word >> 40) & 0xFF] ^
            t[1][(word >> 48) & 0xFF] ^ t[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    state = (state >> 8) ^ t[0][(state ^ *p++) & 0xFF];
    --n;
  }
  return ~state;
}

uint32_t Extend(uint32_t crc, const void* data, size_t n) { return Implementation()(crc, data, n); }

bool HardwareAccelerated() { return Implementation() != &ExtendSoftware; }

}  // namespace wal::crc32c
