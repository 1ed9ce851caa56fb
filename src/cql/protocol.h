// Constants of the CQL native protocol, version 4 (apache/cassandra
// doc/native_protocol_v4.spec), as far as this client uses them. The frame and
// body layouts are in frame.h, requests.h, result.h and error.h; the scope of the
// client is in docs/cassandra.md.
//
// Every frame is a 9-byte header and a body; all integers are big-endian:
//
//   offset size field
//   0      1    version  0x04 request, 0x84 response (top bit = direction)
//   1      1    flags    0x01 compressed, 0x02 tracing, 0x04 custom payload, 0x08 warning
//   2      2    stream   [short], signed; >= 0 for requests, -1 for server events
//   4      1    opcode   Opcode below
//   5      4    length   body length in bytes (the spec caps frames at 256 MiB)
//   9      n    body
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wal::cql {

inline constexpr uint8_t kProtocolVersion = 4;
inline constexpr uint8_t kResponseBit = 0x80;
inline constexpr size_t kHeaderSize = 9;
inline constexpr uint32_t kMaxFrameBodyBytes = 256u << 20;
// v4 stream ids are a signed [short]; requests use 0..32767.
inline constexpr int kMaxStreams = 32768;

enum class Opcode : uint8_t {
  kError = 0x00,
  kStartup = 0x01,
  kReady = 0x02,
  kAuthenticate = 0x03,
  kOptions = 0x05,
  kSupported = 0x06,
  kQuery = 0x07,
  kResult = 0x08,
  kPrepare = 0x09,
  kExecute = 0x0A,
  kRegister = 0x0B,
  kEvent = 0x0C,
  kBatch = 0x0D,
  kAuthChallenge = 0x0E,
  kAuthResponse = 0x0F,
  kAuthSuccess = 0x10,
};

// "ERROR", "RESULT", ... or "unknown opcode".
std::string_view OpcodeName(Opcode opcode);

// Header flags.
inline constexpr uint8_t kFlagCompressed = 0x01;
inline constexpr uint8_t kFlagTracing = 0x02;
inline constexpr uint8_t kFlagCustomPayload = 0x04;
inline constexpr uint8_t kFlagWarning = 0x08;

// [consistency]
enum class Consistency : uint16_t {
  kAny = 0x0000,
  kOne = 0x0001,
  kTwo = 0x0002,
  kThree = 0x0003,
  kQuorum = 0x0004,
  kAll = 0x0005,
  kLocalQuorum = 0x0006,
  kEachQuorum = 0x0007,
  kSerial = 0x0008,
  kLocalSerial = 0x0009,
  kLocalOne = 0x000A,
};

// "ONE", "LOCAL_QUORUM", ... or "unknown consistency".
std::string_view ConsistencyName(Consistency consistency);
// Parses the names ConsistencyName prints (upper or lower case); false if unknown.
bool ParseConsistency(std::string_view name, Consistency* out);

// <flags> of QUERY/EXECUTE <query_parameters> (BATCH uses the upper three).
inline constexpr uint8_t kQueryFlagValues = 0x01;
inline constexpr uint8_t kQueryFlagSkipMetadata = 0x02;
inline constexpr uint8_t kQueryFlagPageSize = 0x04;
inline constexpr uint8_t kQueryFlagPagingState = 0x08;
inline constexpr uint8_t kQueryFlagSerialConsistency = 0x10;
inline constexpr uint8_t kQueryFlagDefaultTimestamp = 0x20;
inline constexpr uint8_t kQueryFlagNamesForValues = 0x40;

// RESULT <kind>.
enum class ResultKind : int32_t {
  kVoid = 0x0001,
  kRows = 0x0002,
  kSetKeyspace = 0x0003,
  kPrepared = 0x0004,
  kSchemaChange = 0x0005,
};

// Rows <metadata> flags.
inline constexpr int32_t kRowsFlagGlobalTableSpec = 0x0001;
inline constexpr int32_t kRowsFlagHasMorePages = 0x0002;
inline constexpr int32_t kRowsFlagNoMetadata = 0x0004;

// [option] ids of column types.
enum class TypeId : uint16_t {
  kCustom = 0x0000,
  kAscii = 0x0001,
  kBigint = 0x0002,
  kBlob = 0x0003,
  kBoolean = 0x0004,
  kCounter = 0x0005,
  kDecimal = 0x0006,
  kDouble = 0x0007,
  kFloat = 0x0008,
  kInt = 0x0009,
  kTimestamp = 0x000B,
  kUuid = 0x000C,
  kVarchar = 0x000D,
  kVarint = 0x000E,
  kTimeuuid = 0x000F,
  kInet = 0x0010,
  kDate = 0x0011,
  kTime = 0x0012,
  kSmallint = 0x0013,
  kTinyint = 0x0014,
  kList = 0x0020,
  kMap = 0x0021,
  kSet = 0x0022,
  kUdt = 0x0030,
  kTuple = 0x0031,
};

// "varchar", "bigint", ... or "unknown type".
std::string_view TypeIdName(TypeId id);

// BATCH <type>.
enum class BatchType : uint8_t { kLogged = 0, kUnlogged = 1, kCounter = 2 };

}  // namespace wal::cql
