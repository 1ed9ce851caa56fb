#include "target/cassandra/cassandra_target.h"

#include "cql/error.h"
#include "cql/value.h"
#include "target/mutation_util.h"
#include "target/target_settings.h"

namespace wal::target {
namespace {

using cassandra::QuoteCql;

ApplyResult FromStatus(const Status& status, std::string_view what) {
  std::string reason = "cassandra " + std::string(what) + ": " + Excerpt(status.message(), 400);
  return cql::IsRetryable(status) ? ApplyResult::Retryable(std::move(reason)) : ApplyResult::Permanent(std::move(reason));
}

int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// TTLs are whole seconds in CQL; round up so a short TTL never means "forever".
int64_t TtlSeconds(const v1::Mutation& mutation) {
  const int64_t millis = TtlMillis(mutation);
  return millis <= 0 ? 0 : millis / 1000 + (millis % 1000 != 0 ? 1 : 0);
}

// The bind markers of `put` are pk, ck, value, timestamp: check the table's
// columns have types our bytes fit.
Status CheckColumnTypes(const std::string& qualified, const CassandraTableMapping& mapping,
                        const cql::PreparedStatement& put) {
  const auto& markers = put.metadata.bind_markers;
  if (markers.size() < 3) return InvalidArgument("cassandra: table " + qualified + ": unexpected bind markers");
  using cql::TypeId;
  const auto fits = [](TypeId id) { return id == TypeId::kBlob || id == TypeId::kVarchar || id == TypeId::kAscii; };
  const std::string* columns[] = {&mapping.partition_key_column, &mapping.clustering_key_column, &mapping.value_column};
  for (size_t i = 0; i < 3; ++i) {
    if (!fits(markers[i].type.id)) {
      return InvalidArgument("cassandra: table " + qualified + " column " + *columns[i] + " is " +
                             markers[i].type.ToString() +
                             ", a type wal cannot write (partition key, clustering key and value: text, ascii or blob)");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<CassandraTarget>> CassandraTarget::Create(Options options) {
  WAL_ASSIGN_OR_RETURN(cql::SessionOptions session_options, cassandra::SessionOptionsFor(options.connection, "target"));
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<cql::Session> session, cql::Session::Create(std::move(session_options)));
  if (!options.now_micros) options.now_micros = SystemMicros;
  return std::unique_ptr<CassandraTarget>(new CassandraTarget(std::move(options), std::move(session)));
}

Result<std::unique_ptr<CassandraTarget>> CassandraTarget::FromSettings(std::string_view settings_json) {
  return CreateFromSettingsJson<CassandraTarget, CassandraTargetConfig>(settings_json);
}

TargetModule CassandraTarget::Module() {
  return TargetModuleOf<CassandraTargetConfig>([](const CassandraTargetConfig& settings, const TargetEnvironment&) {
    return Create(OptionsWith<Options>(settings));
  });
}

CassandraTarget::CassandraTarget(Options options, std::unique_ptr<cql::Session> session)
    : options_(std::move(options)), session_(std::move(session)) {}

CassandraTarget::~CassandraTarget() = default;

std::string CassandraTarget::QualifiedTable(const std::string& table) const {
  return QuoteCql(options_.connection.keyspace) + "." + QuoteCql(table);
}

std::chrono::milliseconds CassandraTarget::SchemaTimeout() const {
  return std::max(options_.connection.request_timeout, std::chrono::milliseconds(20000));
}

Result<std::shared_ptr<const CassandraTarget::TableStatements>> CassandraTarget::StatementsFor(
    const CassandraTableMapping& mapping) {
  {
    std::lock_guard lock(tables_mutex_);
    auto found = tables_.find(mapping.table);
    if (found != tables_.end()) return found->second;
  }
  std::lock_guard schema_lock(schema_mutex_);
  {
    // Another caller may have prepared it while this one waited.
    std::lock_guard lock(tables_mutex_);
    auto found = tables_.find(mapping.table);
    if (found != tables_.end()) return found->second;
  }
  WAL_ASSIGN_OR_RETURN(std::shared_ptr<const TableStatements> statements, PrepareTable(mapping));
  std::lock_guard lock(tables_mutex_);
  tables_[mapping.table] = statements;
  return statements;
}

Result<std::shared_ptr<const CassandraTarget::TableStatements>> CassandraTarget::PrepareTable(
    const CassandraTableMapping& mapping) {
  const std::string qualified = QualifiedTable(mapping.table);
  const std::string pk = QuoteCql(mapping.partition_key_column);
  const std::string ck = QuoteCql(mapping.clustering_key_column);
  const std::string value = QuoteCql(mapping.value_column);
  if (options_.create_tables) {
    cql::QueryParameters parameters;
    parameters.consistency = options_.connection.consistency;
    Result<cql::ResultMessage> created = session_->Query(
        "CREATE TABLE IF NOT EXISTS " + qualified + " (" + pk + " text, " + ck + " blob, " + value +
            " blob, PRIMARY KEY ((" + pk + "), " + ck + "))",
        parameters, SchemaTimeout());
    if (!created.ok()) return created.status();
  }
  auto statements = std::make_shared<TableStatements>();
  statements->mapping = mapping;
  const std::string insert = "INSERT INTO " + qualified + " (" + pk + ", " + ck + ", " + value + ") VALUES (?, ?, ?)";
  WAL_ASSIGN_OR_RETURN(statements->put, session_->Prepare(insert + " USING TIMESTAMP ?", SchemaTimeout()));
  if (Status types = CheckColumnTypes(mapping.table, mapping, statements->put); !types.ok()) return types;
  WAL_ASSIGN_OR_RETURN(statements->put_ttl, session_->Prepare(insert + " USING TTL ? AND TIMESTAMP ?", SchemaTimeout()));
  WAL_ASSIGN_OR_RETURN(statements->remove,
                       session_->Prepare("DELETE FROM " + qualified + " USING TIMESTAMP ? WHERE " + pk + " = ? AND " +
                                             ck + " = ?",
                                         SchemaTimeout()));
  WAL_ASSIGN_OR_RETURN(statements->get, session_->Prepare("SELECT " + value + " FROM " + qualified + " WHERE " + pk +
                                                              " = ? AND " + ck + " = ?",
                                                          SchemaTimeout()));
  return std::shared_ptr<const TableStatements>(std::move(statements));
}

void CassandraTarget::Forget(const std::string& table) {
  std::lock_guard lock(tables_mutex_);
  tables_.erase(table);
}

Result<CassandraTarget::BoundWrite> CassandraTarget::Bind(const v1::Mutation& mutation,
                                                          const DeliveryContext& context) {
  const CassandraTableMapping mapping = options_.MappingFor(mutation.table());
  if (!cassandra::IsCqlName(mapping.table)) {
    return InvalidArgument("mutation.table: '" + Excerpt(mapping.table, 80) +
                           "' is not a Cassandra table name ([A-Za-z0-9_]{1,48}) and target.tables does not map it");
  }
  WAL_ASSIGN_OR_RETURN(std::shared_ptr<const TableStatements> table, StatementsFor(mapping));
  const int64_t timestamp = context.write_time_micros > 0 ? context.write_time_micros : options_.now_micros();
  BoundWrite bound;
  bound.table = table;
  if (mutation.op() == v1::Mutation::PUT) {
    const int64_t ttl = TtlSeconds(mutation);
    bound.statement = ttl > 0 ? &table->put_ttl : &table->put;
    bound.values = {cql::Value::Text(mutation.partition_key()), cql::Value::Blob(mutation.key()),
                    cql::Value::Blob(mutation.value())};
    if (ttl > 0) bound.values.push_back(cql::Value::Int(static_cast<int32_t>(ttl)));
    bound.values.push_back(cql::Value::BigInt(timestamp));
  } else {
    bound.statement = &table->remove;
    bound.values = {cql::Value::BigInt(timestamp), cql::Value::Text(mutation.partition_key()),
                    cql::Value::Blob(mutation.key())};
  }
  return bound;
}

ApplyResult CassandraTarget::ApplyMutation(const v1::Mutation& mutation, const DeliveryContext& context) {
  if (Status valid = CheckMutation(mutation, "mutation"); !valid.ok()) return ApplyResult::Permanent(valid.message());
  const std::string_view what = mutation.op() == v1::Mutation::PUT ? "put" : "delete";
  Result<BoundWrite> bound = Bind(mutation, context);
  if (!bound.ok()) return FromStatus(bound.status(), what);
  cql::QueryParameters parameters;
  parameters.consistency = options_.connection.consistency;
  parameters.values = std::move(bound->values);
  Result<cql::ResultMessage> result = session_->Execute(*bound->statement, parameters);
  if (result.ok()) return ApplyResult::Ok();
  if (result.status().code() == StatusCode::kNotFound) {
    // The table went away after it was prepared: prepare (or create) it again.
    Forget(bound->table->mapping.table);
    if (options_.create_tables) {
      return ApplyResult::Retryable("cassandra " + std::string(what) + ": " + Excerpt(result.status().message(), 400) +
                                    " (the table is created again on the next attempt)");
    }
  }
  return FromStatus(result.status(), what);
}

ApplyResult CassandraTarget::DeliverOpaque(std::string_view /*payload*/, const DeliveryContext& /*context*/) {
  return ApplyResult::Permanent("cassandra target cannot take opaque payloads; send a mutation");
}

Status CassandraTarget::ValidatePayload(const v1::Payload& payload) const {
  return ForEachMutation(
      payload, [this](const v1::Mutation& mutation, const std::string& field) { return CheckMutation(mutation, field); },
      [] { return InvalidArgument("payload.opaque: target type 'cassandra' takes mutations, not opaque payloads"); });
}

Status CassandraTarget::CheckMutation(const v1::Mutation& mutation, const std::string& field) const {
  WAL_RETURN_IF_ERROR(ValidateMutationBasics(mutation, field));
  const CassandraTableMapping mapping = options_.MappingFor(mutation.table());
  if (!cassandra::IsCqlName(mapping.table)) {
    return InvalidArgument(field + ".table: '" + Excerpt(mutation.table(), 80) +
                           "' is not a Cassandra table name ([A-Za-z0-9_]{1,48}) and target.tables does not map it");
  }
  if (mutation.partition_key().empty()) {
    return InvalidArgument(field + ".partition_key: required by target type 'cassandra' (it is the row's "
                           "partition key, which Cassandra does not allow empty)");
  }
  if (mutation.partition_key().size() > kMaxKeyBytes) {
    return InvalidArgument(field + ".partition_key: longer than Cassandra's 65535-byte key limit");
  }
  if (mutation.key().size() > kMaxKeyBytes) {
    return InvalidArgument(field + ".key: longer than Cassandra's 65535-byte clustering key limit");
  }
  if (mutation.value().size() > kMaxValueBytes) {
    return InvalidArgument(field + ".value: " + std::to_string(mutation.value().size()) +
                           " bytes is more than the cassandra target takes (" + std::to_string(kMaxValueBytes) + ")");
  }
  if (TtlSeconds(mutation) > kMaxTtlSeconds) {
    return InvalidArgument(field + ".ttl: more than Cassandra's maximum TTL of 20 years (630720000s)");
  }
  return Status::Ok();
}

Status CassandraTarget::Probe() {
  WAL_RETURN_IF_ERROR(session_->Connect());
  Result<cql::ResultMessage> local = session_->Query("SELECT release_version FROM system.local");
  if (!local.ok()) return Unavailable("cassandra target is unavailable: " + local.status().message());
  return Status::Ok();
}

Result<std::optional<std::string>> CassandraTarget::Get(std::string_view table, std::string_view partition_key,
                                                        std::string_view key) {
  WAL_ASSIGN_OR_RETURN(std::shared_ptr<const TableStatements> statements, StatementsFor(options_.MappingFor(table)));
  cql::QueryParameters parameters;
  parameters.consistency = options_.connection.consistency;
  parameters.values = {cql::Value::Text(partition_key), cql::Value::Blob(key)};
  WAL_ASSIGN_OR_RETURN(cql::ResultMessage rows, session_->Execute(statements->get, parameters));
  if (rows.rows.rows.empty() || cql::RowView(rows.rows, 0).IsNull(0)) return std::optional<std::string>();
  WAL_ASSIGN_OR_RETURN(std::string value, cql::RowView(rows.rows, 0).Bytes(0));
  return std::optional<std::string>(std::move(value));
}

}  // namespace wal::target
