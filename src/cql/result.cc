#include "cql/result.h"

#include <algorithm>

#include "cql/value.h"

namespace wal::cql {

namespace {

constexpr int kMaxTypeDepth = 32;

DataType ReadType(WireReader& reader, int depth) {
  DataType type;
  if (depth > kMaxTypeDepth) {
    reader.Fail("column type nested deeper than " + std::to_string(kMaxTypeDepth) + " levels");
    return type;
  }
  type.id = static_cast<TypeId>(reader.Short());
  switch (type.id) {
    case TypeId::kCustom:
      type.custom_class = std::string(reader.String());
      break;
    case TypeId::kList:
    case TypeId::kSet:
      type.parameters.push_back(ReadType(reader, depth + 1));
      break;
    case TypeId::kMap:
      type.parameters.push_back(ReadType(reader, depth + 1));
      type.parameters.push_back(ReadType(reader, depth + 1));
      break;
    case TypeId::kUdt: {
      type.udt_keyspace = std::string(reader.String());
      type.udt_name = std::string(reader.String());
      uint16_t n = reader.Short();
      if (!reader.CheckCount(n, 4, "UDT field")) break;
      for (uint16_t i = 0; i < n && reader.ok(); ++i) {
        type.field_names.emplace_back(reader.String());
        type.parameters.push_back(ReadType(reader, depth + 1));
      }
      break;
    }
    case TypeId::kTuple: {
      uint16_t n = reader.Short();
      if (!reader.CheckCount(n, 2, "tuple component")) break;
      for (uint16_t i = 0; i < n && reader.ok(); ++i) type.parameters.push_back(ReadType(reader, depth + 1));
      break;
    }
    case TypeId::kAscii: case TypeId::kBigint: case TypeId::kBlob: case TypeId::kBoolean:
    case TypeId::kCounter: case TypeId::kDecimal: case TypeId::kDouble: case TypeId::kFloat:
    case TypeId::kInt: case TypeId::kTimestamp: case TypeId::kUuid: case TypeId::kVarchar:
    case TypeId::kVarint: case TypeId::kTimeuuid: case TypeId::kInet: case TypeId::kDate:
    case TypeId::kTime: case TypeId::kSmallint: case TypeId::kTinyint:
      break;
    default:
      reader.Fail("unknown column type id " + std::to_string(static_cast<unsigned>(type.id)));
      break;
  }
  return type;
}

// The table spec and column specs shared by <metadata> and <prepared metadata>.
std::vector<ColumnSpec> ReadColumnSpecs(WireReader& reader, int32_t flags, int32_t count) {
  std::vector<ColumnSpec> columns;
  const bool global = (flags & kRowsFlagGlobalTableSpec) != 0;
  std::string keyspace, table;
  if (global) {
    keyspace = std::string(reader.String());
    table = std::string(reader.String());
  }
  if (!reader.CheckCount(count, global ? 4 : 8, "column spec")) return columns;
  columns.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count && reader.ok(); ++i) {
    ColumnSpec column;
    if (global) {
      column.keyspace = keyspace;
      column.table = table;
    } else {
      column.keyspace = std::string(reader.String());
      column.table = std::string(reader.String());
    }
    column.name = std::string(reader.String());
    column.type = ReadType(reader, 0);
    columns.push_back(std::move(column));
  }
  return columns;
}

RowsMetadata ReadRowsMetadata(WireReader& reader) {
  RowsMetadata metadata;
  metadata.flags = reader.Int();
  metadata.column_count = reader.Int();
  if (!reader.CheckCount(metadata.column_count, 0, "column")) return metadata;
  if (metadata.flags & kRowsFlagHasMorePages) {
    std::optional<std::string_view> state = reader.Bytes();
    if (state) metadata.paging_state = std::string(*state);
  }
  if (!(metadata.flags & kRowsFlagNoMetadata)) {
    metadata.columns = ReadColumnSpecs(reader, metadata.flags, metadata.column_count);
  }
  return metadata;
}

Rows ReadRows(WireReader& reader) {
  Rows rows;
  rows.metadata = ReadRowsMetadata(reader);
  const int32_t row_count = reader.Int();
  const int64_t columns = rows.metadata.column_count;
  if (!reader.ok()) return rows;
  if (row_count < 0) {
    reader.Fail("rows_count " + std::to_string(row_count) + " is negative");
    return rows;
  }
  if (row_count > 0 && columns == 0) {
    reader.Fail(std::to_string(row_count) + " rows without columns");
    return rows;
  }
  // Every cell is at least its 4-byte length.
  if (!reader.CheckCount(static_cast<int64_t>(row_count) * columns, 4, "cell")) return rows;
  rows.rows.reserve(static_cast<size_t>(row_count));
  for (int32_t r = 0; r < row_count && reader.ok(); ++r) {
    std::vector<Cell> row;
    row.reserve(static_cast<size_t>(columns));
    for (int64_t c = 0; c < columns && reader.ok(); ++c) {
      std::optional<std::string_view> cell = reader.Bytes();
      row.push_back(cell ? Cell(std::string(*cell)) : std::nullopt);
    }
    rows.rows.push_back(std::move(row));
  }
  return rows;
}

Prepared ReadPrepared(WireReader& reader) {
  Prepared prepared;
  prepared.id = std::string(reader.ShortBytes());
  prepared.metadata.flags = reader.Int();
  const int32_t count = reader.Int();
  const int32_t pk_count = reader.Int();
  if (!reader.CheckCount(count, 0, "bind marker") || !reader.CheckCount(pk_count, 2, "partition key index")) {
    return prepared;
  }
  for (int32_t i = 0; i < pk_count && reader.ok(); ++i) prepared.metadata.partition_key_indexes.push_back(reader.Short());
  prepared.metadata.bind_markers = ReadColumnSpecs(reader, prepared.metadata.flags, count);
  prepared.result_metadata = ReadRowsMetadata(reader);
  return prepared;
}

SchemaChange ReadSchemaChange(WireReader& reader) {
  SchemaChange change;
  change.change_type = std::string(reader.String());
  change.target = std::string(reader.String());
  change.keyspace = std::string(reader.String());
  if (change.target == "KEYSPACE") return change;
  change.name = std::string(reader.String());
  if (change.target == "FUNCTION" || change.target == "AGGREGATE") change.argument_types = reader.StringList();
  return change;
}

}  // namespace

std::string DataType::ToString() const {
  auto joined = [this](size_t from) {
    std::string out;
    for (size_t i = from; i < parameters.size(); ++i) {
      if (i > from) out += ", ";
      out += parameters[i].ToString();
    }
    return out;
  };
  switch (id) {
    case TypeId::kCustom: return "'" + custom_class + "'";
    case TypeId::kList: return "list<" + joined(0) + ">";
    case TypeId::kSet: return "set<" + joined(0) + ">";
    case TypeId::kMap: return "map<" + joined(0) + ">";
    case TypeId::kTuple: return "tuple<" + joined(0) + ">";
    case TypeId::kUdt: return udt_keyspace + "." + udt_name;
    default: return std::string(TypeIdName(id));
  }
}

Result<ResultMessage> DecodeResult(std::string_view body) {
  WireReader reader(body);
  ResultMessage result;
  result.kind = static_cast<ResultKind>(reader.Int());
  switch (result.kind) {
    case ResultKind::kVoid:
      break;
    case ResultKind::kRows:
      result.rows = ReadRows(reader);
      break;
    case ResultKind::kSetKeyspace:
      result.keyspace = std::string(reader.String());
      break;
    case ResultKind::kPrepared:
      result.prepared = ReadPrepared(reader);
      break;
    case ResultKind::kSchemaChange:
      result.schema_change = ReadSchemaChange(reader);
      break;
    default:
      if (reader.ok()) reader.Fail("unknown RESULT kind " + std::to_string(static_cast<int32_t>(result.kind)));
      break;
  }
  if (!reader.ok()) return reader.status().WithContext("RESULT");
  return result;
}

Result<size_t> Rows::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < metadata.columns.size(); ++i) {
    if (metadata.columns[i].name == name) return i;
  }
  return NotFound("no column named '" + std::string(name) + "' in the result");
}

bool RowView::IsNull(size_t column) const {
  return row_ >= rows_.rows.size() || column >= rows_.rows[row_].size() || !rows_.rows[row_][column].has_value();
}

Result<std::string_view> RowView::Checked(size_t column, std::initializer_list<TypeId> types) const {
  if (row_ >= rows_.rows.size()) {
    return InvalidArgument("row " + std::to_string(row_) + " out of range (" + std::to_string(rows_.rows.size()) +
                           " rows)");
  }
  const std::vector<Cell>& cells = rows_.rows[row_];
  if (column >= cells.size()) {
    return InvalidArgument("column " + std::to_string(column) + " out of range (" + std::to_string(cells.size()) +
                           " columns)");
  }
  if (column < rows_.metadata.columns.size() && types.size() > 0) {
    const ColumnSpec& spec = rows_.metadata.columns[column];
    if (std::find(types.begin(), types.end(), spec.type.id) == types.end()) {
      return InvalidArgument("column '" + spec.name + "' is " + spec.type.ToString() + ", not " +
                             std::string(TypeIdName(*types.begin())));
    }
  }
  if (!cells[column]) return FailedPrecondition("column " + std::to_string(column) + " is null");
  return std::string_view(*cells[column]);
}

Result<std::string> RowView::Text(size_t column) const {
  WAL_ASSIGN_OR_RETURN(std::string_view bytes, Checked(column, {TypeId::kVarchar, TypeId::kAscii}));
  return std::string(bytes);
}

Result<std::string> RowView::Bytes(size_t column) const {
  WAL_ASSIGN_OR_RETURN(std::string_view bytes, Checked(column, {}));
  return std::string(bytes);
}

Result<int64_t> RowView::BigInt(size_t column) const {
  WAL_ASSIGN_OR_RETURN(std::string_view bytes, Checked(column, {TypeId::kBigint, TypeId::kCounter}));
  return DecodeBigInt(bytes);
}

Result<int32_t> RowView::Int(size_t column) const {
  WAL_ASSIGN_OR_RETURN(std::string_view bytes, Checked(column, {TypeId::kInt}));
  return DecodeInt(bytes);
}

Result<bool> RowView::Boolean(size_t column) const {
  WAL_ASSIGN_OR_RETURN(std::string_view bytes, Checked(column, {TypeId::kBoolean}));
  return DecodeBoolean(bytes);
}

Result<int64_t> RowView::TimestampMillis(size_t column) const {
  WAL_ASSIGN_OR_RETURN(std::string_view bytes, Checked(column, {TypeId::kTimestamp}));
  return DecodeBigInt(bytes);
}

Result<Uuid> RowView::GetUuid(size_t column) const {
  WAL_ASSIGN_OR_RETURN(std::string_view bytes, Checked(column, {TypeId::kUuid, TypeId::kTimeuuid}));
  return DecodeUuid(bytes);
}

}  // namespace wal::cql
