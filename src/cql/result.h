// RESULT responses (spec 4.2.5): Void, Rows, Set_keyspace, Prepared and
// Schema_change, and typed access to the cells of Rows.
//
//   RESULT        [int] kind, then per kind:
//   Rows          <metadata> [int] rows_count, rows_count x columns_count x [bytes]
//   <metadata>    [int] flags, [int] columns_count, [[bytes] paging_state if Has_more_pages],
//                 unless No_metadata: [[string] ks [string] table if Global_tables_spec],
//                 columns_count x ([[string] ks [string] table unless global] [string] name, <type>)
//   <type>        [short] TypeId; Custom: [string] class; List/Set: <type>; Map: <type><type>;
//                 UDT: [string] ks [string] name [short] n n x ([string] field <type>);
//                 Tuple: [short] n n x <type>
//   Set_keyspace  [string] keyspace
//   Prepared      [short bytes] id, <prepared metadata>, <metadata> of the result
//   <prepared metadata> [int] flags, [int] columns_count, [int] pk_count, pk_count x [short],
//                 then table spec and column specs as in <metadata>
//   Schema_change [string] change type, [string] target, then KEYSPACE: [string] keyspace;
//                 TABLE/TYPE: [string] keyspace [string] name; FUNCTION/AGGREGATE:
//                 [string] keyspace [string] name [string list] argument types
//
// Failure: DecodeResult returns kCorruption on a truncated or malformed body
// (also a type nested deeper than 32 levels); row accessors return
// kInvalidArgument for a type mismatch or a wrong-sized cell, kFailedPrecondition
// for a null cell, kNotFound for an unknown column name. Nothing reads past its input.
// Threading: plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/protocol.h"
#include "cql/wire.h"

namespace wal::cql {

struct DataType {
  TypeId id = TypeId::kBlob;
  std::string custom_class;          // kCustom
  std::vector<DataType> parameters;  // list/set: element; map: key, value; tuple and UDT: fields
  std::string udt_keyspace;          // kUdt
  std::string udt_name;              // kUdt
  std::vector<std::string> field_names;  // kUdt

  // "varchar", "map<varchar, bigint>", ...
  std::string ToString() const;
};

struct ColumnSpec {
  std::string keyspace;
  std::string table;
  std::string name;
  DataType type;
};

struct RowsMetadata {
  int32_t flags = 0;
  int32_t column_count = 0;
  std::optional<std::string> paging_state;  // set when more pages follow
  std::vector<ColumnSpec> columns;          // empty when the No_metadata flag is set
};

// A cell: its serialized bytes, or nullopt for null.
using Cell = std::optional<std::string>;

struct Rows {
  RowsMetadata metadata;
  std::vector<std::vector<Cell>> rows;  // each has metadata.column_count cells

  // The index of the column named `name`, or kNotFound.
  Result<size_t> ColumnIndex(std::string_view name) const;
};

// Typed access to one row. Accessors check the column type when the metadata
// has column specs (not when the query skipped metadata).
class RowView {
 public:
  RowView(const Rows& rows, size_t row) : rows_(rows), row_(row) {}

  bool IsNull(size_t column) const;
  Result<std::string> Text(size_t column) const;      // varchar, ascii
  Result<std::string> Bytes(size_t column) const;     // any type, as serialized
  Result<int64_t> BigInt(size_t column) const;        // bigint, counter
  Result<int32_t> Int(size_t column) const;
  Result<bool> Boolean(size_t column) const;
  Result<int64_t> TimestampMillis(size_t column) const;
  Result<Uuid> GetUuid(size_t column) const;          // uuid, timeuuid

 private:
  Result<std::string_view> Checked(size_t column, std::initializer_list<TypeId> types) const;

  const Rows& rows_;
  size_t row_;
};

struct PreparedMetadata {
  int32_t flags = 0;
  std::vector<uint16_t> partition_key_indexes;
  std::vector<ColumnSpec> bind_markers;
};

struct Prepared {
  std::string id;
  PreparedMetadata metadata;
  RowsMetadata result_metadata;
};

struct SchemaChange {
  std::string change_type;  // CREATED, UPDATED, DROPPED
  std::string target;       // KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE
  std::string keyspace;
  std::string name;         // empty for KEYSPACE
  std::vector<std::string> argument_types;  // FUNCTION, AGGREGATE
};

struct ResultMessage {
  ResultKind kind = ResultKind::kVoid;
  Rows rows;                   // kRows
  std::string keyspace;        // kSetKeyspace
  Prepared prepared;           // kPrepared
  SchemaChange schema_change;  // kSchemaChange
};

// Decodes the body of a RESULT (after the envelope of responses.h).
Result<ResultMessage> DecodeResult(std::string_view body);

}  // namespace wal::cql
