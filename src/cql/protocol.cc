#include "cql/protocol.h"

#include <cctype>
#include <string>

namespace wal::cql {

std::string_view OpcodeName(Opcode opcode) {
  switch (opcode) {
    case Opcode::kError: return "ERROR";
    case Opcode::kStartup: return "STARTUP";
    case Opcode::kReady: return "READY";
    case Opcode::kAuthenticate: return "AUTHENTICATE";
    case Opcode::kOptions: return "OPTIONS";
    case Opcode::kSupported: return "SUPPORTED";
    case Opcode::kQuery: return "QUERY";
    case Opcode::kResult: return "RESULT";
    case Opcode::kPrepare: return "PREPARE";
    case Opcode::kExecute: return "EXECUTE";
    case Opcode::kRegister: return "REGISTER";
    case Opcode::kEvent: return "EVENT";
    case Opcode::kBatch: return "BATCH";
    case Opcode::kAuthChallenge: return "AUTH_CHALLENGE";
    case Opcode::kAuthResponse: return "AUTH_RESPONSE";
    case Opcode::kAuthSuccess: return "AUTH_SUCCESS";
  }
  return "unknown opcode";
}

namespace {

struct ConsistencyEntry {
  Consistency level;
  std::string_view name;
};

constexpr ConsistencyEntry kConsistencies[] = {
    {Consistency::kAny, "ANY"},           {Consistency::kOne, "ONE"},
    {Consistency::kTwo, "TWO"},           {Consistency::kThree, "THREE"},
    {Consistency::kQuorum, "QUORUM"},     {Consistency::kAll, "ALL"},
    {Consistency::kLocalQuorum, "LOCAL_QUORUM"}, {Consistency::kEachQuorum, "EACH_QUORUM"},
    {Consistency::kSerial, "SERIAL"},     {Consistency::kLocalSerial, "LOCAL_SERIAL"},
    {Consistency::kLocalOne, "LOCAL_ONE"},
};

}  // namespace

std::string_view ConsistencyName(Consistency consistency) {
  for (const ConsistencyEntry& entry : kConsistencies) {
    if (entry.level == consistency) return entry.name;
  }
  return "unknown consistency";
}

bool ParseConsistency(std::string_view name, Consistency* out) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const ConsistencyEntry& entry : kConsistencies) {
    if (entry.name == upper) {
      *out = entry.level;
      return true;
    }
  }
  return false;
}

std::string_view TypeIdName(TypeId id) {
  switch (id) {
    case TypeId::kCustom: return "custom";
    case TypeId::kAscii: return "ascii";
    case TypeId::kBigint: return "bigint";
    case TypeId::kBlob: return "blob";
    case TypeId::kBoolean: return "boolean";
    case TypeId::kCounter: return "counter";
    case TypeId::kDecimal: return "decimal";
    case TypeId::kDouble: return "double";
    case TypeId::kFloat: return "float";
    case TypeId::kInt: return "int";
    case TypeId::kTimestamp: return "timestamp";
    case TypeId::kUuid: return "uuid";
    case TypeId::kVarchar: return "varchar";
    case TypeId::kVarint: return "varint";
    case TypeId::kTimeuuid: return "timeuuid";
    case TypeId::kInet: return "inet";
    case TypeId::kDate: return "date";
    case TypeId::kTime: return "time";
    case TypeId::kSmallint: return "smallint";
    case TypeId::kTinyint: return "tinyint";
    case TypeId::kList: return "list";
    case TypeId::kMap: return "map";
    case TypeId::kSet: return "set";
    case TypeId::kUdt: return "udt";
    case TypeId::kTuple: return "tuple";
  }
  return "unknown type";
}

}  // namespace wal::cql
