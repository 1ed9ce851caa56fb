// A Cassandra target, over wal's own CQL client (src/cql/; Debian packages no
// C++ driver).
//
// Settings (cassandra_config.h; docs/cassandra.md#the-cassandra-target): the
// connection (contact points, keyspace, consistency, timeouts, credentials,
// TLS), the table a mutation without a table goes to (`table`, default "kv"),
// its columns (`partition_key_column`, `clustering_key_column`,
// `value_column`), a `tables` mapping from a mutation's table to a Cassandra
// table and its columns, and `create_tables`.
//
// Rows: a mutation's partition_key is the partition key column (text), its key
// the clustering key column (blob), its value the value column (blob):
//   CREATE TABLE <keyspace>.<table> (<pk> text, <ck> blob, <value> blob, PRIMARY KEY ((<pk>), <ck>))
// With create_tables (the default) that table is created on first use; the
// keyspace never is (its replication is the operator's decision). Without it
// the table must exist; its column types are checked against the prepared
// statement's bind markers (each of the three must be text, ascii or blob).
//
// Idempotency: PUT is `INSERT ... USING TIMESTAMP t [AND TTL s]` and DELETE is
// `DELETE ... USING TIMESTAMP t`, where t is the entry's write time in
// microseconds (DeliveryContext::write_time_micros; the same on every attempt)
// and s the mutation's TTL rounded up to seconds. Cassandra keeps, per cell,
// the write with the highest timestamp (a tombstone wins a tie), so a replayed,
// duplicated or late delivery of an older entry can never overwrite a newer
// value: at-least-once delivery is safe by last-write-wins, whatever the order
// deliveries arrive in. An entry without a write time is stamped with this
// process's clock when applied.
//
// Failures: Unavailable, Write/Read_timeout, Overloaded, Is_bootstrapping,
// server errors and connection errors are retryable; Invalid, Syntax_error,
// Unauthorized, an unknown keyspace or table, and bad credentials are permanent
// (the reason carries the server's message). A table created by this target
// that disappears is created again on the next attempt (retryable).
//
// Mutation sets: the engine applies a set's mutations one by one in sequence
// order. Bind() is the piece a batch seam would reuse: a partition's bound
// writes would go into one UNLOGGED BatchRequest.
//
// Threading: thread-safe; one CQL session (one multiplexed connection per
// contact point) serves every caller. ApplyMutation blocks for at most
// request_timeout, plus connect_timeout when a node must be connected, plus,
// on a table's first use, the table's creation and preparation (each bounded
// by the schema timeout, max(request_timeout, 20s)).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/session.h"
#include "target/cassandra/cassandra_config.h"
#include "target/target.h"

namespace wal::target {

class CassandraTarget final : public Target {
 public:
  struct Options : CassandraTargetConfig {
    // Stamps entries that carry no write time; default: the system clock.
    std::function<int64_t()> now_micros;
  };

  // The prepared statements of one table.
  struct TableStatements {
    CassandraTableMapping mapping;
    cql::PreparedStatement put;      // pk, ck, value, timestamp
    cql::PreparedStatement put_ttl;  // pk, ck, value, ttl, timestamp
    cql::PreparedStatement remove;   // timestamp, pk, ck
    cql::PreparedStatement get;      // pk, ck -> value
  };

  // One mutation bound to its table's statement: what ApplyMutation executes,
  // and what a batch would hold (BatchStatement{true, statement->id, values}).
  struct BoundWrite {
    std::shared_ptr<const TableStatements> table;
    const cql::PreparedStatement* statement = nullptr;
    std::vector<cql::Value> values;
  };

  // The settings must have passed CassandraTargetConfig::Validate. Reads the
  // password (kInvalidArgument naming password_env/password_file when it
  // cannot); connects nothing.
  static Result<std::unique_ptr<CassandraTarget>> Create(Options options);
  // Decodes and validates settings JSON (see the file comment), then Create.
  static Result<std::unique_ptr<CassandraTarget>> FromSettings(std::string_view settings_json);
  // The module: type `cassandra`, CassandraTargetConfig, Create. Registered in src/modules/.
  static TargetModule Module();

  ~CassandraTarget() override;

  ApplyResult ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) override;
  ApplyResult DeliverOpaque(std::string_view payload, const DeliveryContext& context) override;
  Status ValidatePayload(const v1::Payload& payload) const override;
  Status Probe() override;

  // Prepares (and with create_tables creates) the mutation's table, then binds
  // it. A failure says whether trying again may help.
  Result<BoundWrite> Bind(const v1::Mutation& mutation, const DeliveryContext& context);

  // The live value under (table, partition_key, key), for tests and tools.
  Result<std::optional<std::string>> Get(std::string_view table, std::string_view partition_key,
                                         std::string_view key);

  // Largest value, key and TTL a write may carry (Cassandra's own limits:
  // half a 32 MiB commit log segment per mutation, 64 KiB keys, 20-year TTLs).
  static constexpr size_t kMaxValueBytes = 15u << 20;
  static constexpr size_t kMaxKeyBytes = 65535;
  static constexpr int64_t kMaxTtlSeconds = 630'720'000;

 private:
  CassandraTarget(Options options, std::unique_ptr<cql::Session> session);
  std::string QualifiedTable(const std::string& table) const;
  Result<std::shared_ptr<const TableStatements>> StatementsFor(const CassandraTableMapping& mapping);
  Result<std::shared_ptr<const TableStatements>> PrepareTable(const CassandraTableMapping& mapping);
  void Forget(const std::string& table);
  // What ValidatePayload checks of one mutation at `field`.
  Status CheckMutation(const v1::Mutation& mutation, const std::string& field) const;
  std::chrono::milliseconds SchemaTimeout() const;

  const Options options_;
  const std::unique_ptr<cql::Session> session_;
  std::mutex tables_mutex_;  // guards tables_
  std::map<std::string, std::shared_ptr<const TableStatements>> tables_;  // by Cassandra table
  std::mutex schema_mutex_;  // one table creation at a time: schema changes are cluster-wide and slow
};

}  // namespace wal::target
