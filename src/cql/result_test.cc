#include "cql/result.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"
#include "cql/value.h"

namespace wal::cql {
namespace {

using testing::Hex;
using testing::Str;

// Rows with a global table spec: ks.t (k varchar, v blob, n bigint), two rows.
std::string GlobalRowsBody() {
  return Hex("00000002") +                        // kind Rows
         Hex("00000001 00000003") +               // flags Global_tables_spec, 3 columns
         Str("ks") + Str("t") +                   // <global_table_spec>
         Str("k") + Hex("000d") +                 // varchar
         Str("v") + Hex("0003") +                 // blob
         Str("n") + Hex("0002") +                 // bigint
         Hex("00000002") +                        // rows_count
         Hex("00000001") + "a" + Hex("00000002 00ff") + Hex("00000008 0000000000000001") +
         Hex("00000001") + "b" + Hex("ffffffff") + Hex("00000008 ffffffffffffffff");
}

TEST(CqlResultTest, VoidHasNothingMore) {
  Result<ResultMessage> result = DecodeResult(Hex("00000001"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->kind, ResultKind::kVoid);
}

TEST(CqlResultTest, RowsWithAGlobalTableSpec) {
  Result<ResultMessage> result = DecodeResult(GlobalRowsBody());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Rows& rows = result->rows;
  ASSERT_EQ(rows.metadata.columns.size(), 3u);
  EXPECT_EQ(rows.metadata.columns[0].keyspace, "ks");
  EXPECT_EQ(rows.metadata.columns[2].table, "t");
  EXPECT_EQ(rows.metadata.columns[1].type.id, TypeId::kBlob);
  ASSERT_EQ(rows.rows.size(), 2u);
  RowView first(rows, 0), second(rows, 1);
  EXPECT_EQ(first.Text(0).value(), "a");
  EXPECT_EQ(first.Bytes(1).value(), Hex("00ff"));
  EXPECT_EQ(first.BigInt(2).value(), 1);
  EXPECT_TRUE(second.IsNull(1));
  EXPECT_EQ(second.Bytes(1).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.BigInt(2).value(), -1);
  EXPECT_EQ(rows.ColumnIndex("n").value(), 2u);
  EXPECT_EQ(rows.ColumnIndex("zz").status().code(), StatusCode::kNotFound);
  // Type checks: a blob is not text, varchar is not bigint.
  EXPECT_EQ(first.Text(1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(first.BigInt(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(first.Int(5).status().code(), StatusCode::kInvalidArgument);
}

TEST(CqlResultTest, RowsWithPerColumnSpecsCommonTypesAndAPagingState) {
  const std::string uuid = Hex("550e8400e29b41d4a716446655440000");
  const std::string body =
      Hex("00000002") + Hex("00000002 00000007") +  // flags Has_more_pages, 7 columns
      Hex("00000003 abcdef") +                      // <paging_state>
      Str("ks") + Str("t") + Str("i") + Hex("0009") +   // int
      Str("ks") + Str("t") + Str("b") + Hex("0004") +   // boolean
      Str("ks") + Str("t") + Str("ts") + Hex("000b") +  // timestamp
      Str("ks") + Str("t") + Str("u") + Hex("000c") +   // uuid
      Str("ks") + Str("t") + Str("tu") + Hex("000f") +  // timeuuid
      Str("ks") + Str("t") + Str("c") + Hex("0005") +   // counter
      Str("ks") + Str("t") + Str("a") + Hex("0001") +   // ascii
      Hex("00000001") +                                 // one row
      Hex("00000004 fffffff9") + Hex("00000001 01") + Hex("00000008 0000018bcfe56800") + Hex("00000010") + uuid +
      Hex("00000010") + uuid + Hex("00000008 000000000000002a") + Hex("00000002") + "hi";
  Result<ResultMessage> result = DecodeResult(body);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Rows& rows = result->rows;
  EXPECT_EQ(rows.metadata.paging_state, std::optional<std::string>(Hex("abcdef")));
  RowView row(rows, 0);
  EXPECT_EQ(row.Int(0).value(), -7);
  EXPECT_TRUE(row.Boolean(1).value());
  EXPECT_EQ(row.TimestampMillis(2).value(), 0x18bcfe56800);
  EXPECT_EQ(UuidToString(row.GetUuid(3).value()), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(UuidToString(row.GetUuid(4).value()), "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(row.BigInt(5).value(), 42);
  EXPECT_EQ(row.Text(6).value(), "hi");
}

TEST(CqlResultTest, CollectionTupleUdtAndCustomTypesDecode) {
  const std::string body = Hex("00000002") + Hex("00000001 00000004") + Str("ks") + Str("t") +
                           Str("m") + Hex("0021 000d 0009") +                 // map<varchar, int>
                           Str("l") + Hex("0020 0022 0003") +                 // list<set<blob>>
                           Str("tp") + Hex("0031 0002 0002 0004") +           // tuple<bigint, boolean>
                           Str("ud") + Hex("0030") + Str("ks") + Str("addr") + Hex("0001") + Str("zip") +
                           Hex("0009") +                                      // ks.addr {zip int}
                           Hex("00000000");                                   // no rows
  Result<ResultMessage> result = DecodeResult(body);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const auto& columns = result->rows.metadata.columns;
  ASSERT_EQ(columns.size(), 4u);
  EXPECT_EQ(columns[0].type.ToString(), "map<varchar, int>");
  EXPECT_EQ(columns[1].type.ToString(), "list<set<blob>>");
  EXPECT_EQ(columns[2].type.ToString(), "tuple<bigint, boolean>");
  EXPECT_EQ(columns[3].type.ToString(), "ks.addr");
  EXPECT_EQ(columns[3].type.field_names, std::vector<std::string>{"zip"});
  Result<ResultMessage> custom =
      DecodeResult(Hex("00000002 00000001 00000001") + Str("ks") + Str("t") + Str("x") + Hex("0000") +
                   Str("org.example.T") + Hex("00000000"));
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(custom->rows.metadata.columns[0].type.custom_class, "org.example.T");
}

TEST(CqlResultTest, RowsWithoutMetadataKeepTheColumnCount) {
  // flags No_metadata, 1 column, 1 row
  Result<ResultMessage> result = DecodeResult(Hex("00000002 00000004 00000001 00000001 00000001") + "z");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->rows.metadata.columns.empty());
  EXPECT_EQ(RowView(result->rows, 0).Text(0).value(), "z");  // no specs: no type check
}

TEST(CqlResultTest, SetKeyspace) {
  Result<ResultMessage> result = DecodeResult(Hex("00000003") + Str("wal"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->kind, ResultKind::kSetKeyspace);
  EXPECT_EQ(result->keyspace, "wal");
}

TEST(CqlResultTest, PreparedWithBindMarkersPartitionKeyAndNoResultMetadata) {
  const std::string body = Hex("00000004") + Hex("0004 0a0b0c0d") +   // kind, [short bytes] id
                           Hex("00000001 00000002 00000001 0000") +   // global, 2 markers, 1 pk at 0
                           Str("ks") + Str("t") + Str("k") + Hex("000d") + Str("v") + Hex("0003") +
                           Hex("00000004 00000000");                  // result: No_metadata, 0 columns
  Result<ResultMessage> result = DecodeResult(body);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Prepared& prepared = result->prepared;
  EXPECT_EQ(prepared.id, Hex("0a0b0c0d"));
  EXPECT_EQ(prepared.metadata.partition_key_indexes, std::vector<uint16_t>{0});
  ASSERT_EQ(prepared.metadata.bind_markers.size(), 2u);
  EXPECT_EQ(prepared.metadata.bind_markers[1].name, "v");
  EXPECT_EQ(prepared.result_metadata.flags, kRowsFlagNoMetadata);
}

TEST(CqlResultTest, SchemaChangeForKeyspaceTableAndFunction) {
  Result<ResultMessage> table = DecodeResult(Hex("00000005") + Str("CREATED") + Str("TABLE") + Str("ks") + Str("t"));
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->schema_change.change_type, "CREATED");
  EXPECT_EQ(table->schema_change.name, "t");
  Result<ResultMessage> keyspace = DecodeResult(Hex("00000005") + Str("DROPPED") + Str("KEYSPACE") + Str("ks"));
  ASSERT_TRUE(keyspace.ok());
  EXPECT_EQ(keyspace->schema_change.keyspace, "ks");
  EXPECT_TRUE(keyspace->schema_change.name.empty());
  Result<ResultMessage> function = DecodeResult(Hex("00000005") + Str("CREATED") + Str("FUNCTION") + Str("ks") +
                                                Str("f") + Hex("0001") + Str("int"));
  ASSERT_TRUE(function.ok());
  EXPECT_EQ(function->schema_change.argument_types, std::vector<std::string>{"int"});
}

TEST(CqlResultTest, EveryTruncationOfAValidBodyIsAnErrorNotACrash) {
  const std::string body = GlobalRowsBody();
  for (size_t size = 0; size < body.size(); ++size) {
    Result<ResultMessage> result = DecodeResult(std::string_view(body).substr(0, size));
    EXPECT_FALSE(result.ok()) << "prefix of " << size << " bytes decoded";
    EXPECT_EQ(result.status().code(), StatusCode::kCorruption);
  }
}

TEST(CqlResultTest, MalformedBodiesAreErrors) {
  EXPECT_FALSE(DecodeResult(Hex("00000009")).ok());                                        // unknown kind
  EXPECT_FALSE(DecodeResult(Hex("00000002 00000001 00000001") + Str("k") + Str("t") + Str("c") + Hex("0077") +
                            Hex("00000000")).ok());                                         // unknown type id
  EXPECT_FALSE(DecodeResult(Hex("00000002 00000004 00000000 7fffffff")).ok());              // rows, no columns
  EXPECT_FALSE(DecodeResult(Hex("00000002 00000004 00000000 fffffff9")).ok());              // negative rows
  EXPECT_FALSE(DecodeResult(Hex("00000002 00000004 ffffffff 00000000")).ok());              // negative columns
  EXPECT_FALSE(DecodeResult(Hex("00000002 00000004 00010000 00010000")).ok());              // cells beyond input
  std::string deep = Hex("00000002 00000001 00000001") + Str("k") + Str("t") + Str("c");
  for (int i = 0; i < 40; ++i) deep += Hex("0020");                                          // list<list<...>>
  deep += Hex("0009 00000000");
  Result<ResultMessage> nested = DecodeResult(deep);
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("nested deeper"), std::string::npos);
}

TEST(CqlResultTest, WrongSizedCellIsAnError) {
  Rows rows;
  rows.metadata.column_count = 1;
  rows.rows.push_back({Cell(Hex("0001"))});
  EXPECT_EQ(RowView(rows, 0).BigInt(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RowView(rows, 3).Bytes(0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace wal::cql
