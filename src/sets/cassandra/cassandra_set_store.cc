#include "sets/cassandra/cassandra_set_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include "cql/error.h"
#include "cql/value.h"

namespace wal::sets {
namespace {

using cassandra::QuoteCql;

// Finished sets are deleted this far (in microseconds) past their order, so
// the delete shadows every write the set's rows ever get (see the header).
constexpr int64_t kDeleteSpan = int64_t{1} << 40;
constexpr int32_t kChunksPerPage = 4;    // chunks are up to 16 MiB: keep responses small
constexpr int32_t kSetsPerPage = 1000;

int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Failed(const Status& status, std::string_view what) {
  std::string message = "durable storage (cassandra): " + std::string(what) + ": " + status.message();
  return cql::IsRetryable(status) ? Unavailable(std::move(message)) : IOError(std::move(message));
}

SetState StateOf(const std::string& text) { return text == "dead" ? SetState::kDead : SetState::kPending; }

std::chrono::milliseconds SchemaTimeout(const CassandraSetStoreConfig& settings) {
  return std::max(settings.connection.request_timeout, std::chrono::milliseconds(20000));
}

}  // namespace

struct CassandraSetStore::Statements {
  cql::PreparedStatement insert_chunk;     // namespace, set_id, index, bytes, timestamp
  cql::PreparedStatement insert_progress;  // namespace, set_id, order, chunk_count, total_bytes, timestamp
  cql::PreparedStatement select_progress;  // namespace, set_id -> set_order, chunk_count, applied_through, status
  cql::PreparedStatement select_chunks;    // namespace, set_id -> chunk_index, bytes
  cql::PreparedStatement update_progress;  // timestamp, applied_through, namespace, set_id
  cql::PreparedStatement update_status;    // timestamp, status, namespace, set_id
  cql::PreparedStatement delete_progress;  // timestamp, namespace, set_id
  cql::PreparedStatement delete_chunks;    // timestamp, namespace, set_id
  cql::PreparedStatement list;             // namespace -> set_id, status
};

Result<std::unique_ptr<CassandraSetStore>> CassandraSetStore::Open(Options options) {
  WAL_ASSIGN_OR_RETURN(cql::SessionOptions session_options,
                       cassandra::SessionOptionsFor(options.settings.connection, "durable_storage"));
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<cql::Session> session, cql::Session::Create(std::move(session_options)));
  if (!options.now_micros) options.now_micros = SystemMicros;
  if (options.writer_threads == 0) options.writer_threads = 1;
  std::unique_ptr<CassandraSetStore> store(new CassandraSetStore(std::move(options), std::move(session)));
  // The cluster may be down now; the tables are made on first use then.
  if (auto ready = store->Ready(); !ready.ok()) {
    spdlog::warn("namespace {}: {}; sets wait until it is reachable", store->options_.namespace_name,
                 ready.status().message());
  }
  store->workers_ = std::make_unique<BlockingExecutor>(store->options_.writer_threads);
  return store;
}

CassandraSetStore::CassandraSetStore(Options options, std::unique_ptr<cql::Session> session)
    : options_(std::move(options)), session_(std::move(session)) {}

CassandraSetStore::~CassandraSetStore() { (void)Close(); }

Result<std::shared_ptr<const CassandraSetStore::Statements>> CassandraSetStore::Ready() {
  std::lock_guard lock(schema_mutex_);
  if (statements_) return statements_;
  const std::string keyspace = QuoteCql(options_.settings.connection.keyspace);
  const std::string chunks = keyspace + "." + QuoteCql(options_.settings.table);
  const std::string progress = keyspace + "." + QuoteCql(options_.settings.table + "_progress");
  const auto timeout = SchemaTimeout(options_.settings);
  cql::QueryParameters parameters;
  parameters.consistency = options_.settings.connection.consistency;
  for (const std::string& ddl : {
           "CREATE TABLE IF NOT EXISTS " + chunks +
               " (namespace text, set_id text, chunk_index int, bytes blob,"
               " PRIMARY KEY ((namespace, set_id), chunk_index))",
           // Finished sets leave tombstones in their namespace's partition; a
           // short grace keeps ListLive's reads clear of them (a resurrected
           // row is shadowed anyway: see the header).
           "CREATE TABLE IF NOT EXISTS " + progress +
               " (namespace text, set_id text, set_order bigint, chunk_count int, total_bytes bigint,"
               " applied_through bigint, status text, PRIMARY KEY ((namespace), set_id))"
               " WITH gc_grace_seconds = 10800",
       }) {
    Result<cql::ResultMessage> created = session_->Query(ddl, parameters, timeout);
    if (!created.ok()) return Failed(created.status(), "creating tables");
  }
  auto statements = std::make_shared<Statements>();
  const std::pair<cql::PreparedStatement*, std::string> queries[] = {
      {&statements->insert_chunk,
       "INSERT INTO " + chunks + " (namespace, set_id, chunk_index, bytes) VALUES (?, ?, ?, ?) USING TIMESTAMP ?"},
      {&statements->insert_progress,
       "INSERT INTO " + progress +
           " (namespace, set_id, set_order, chunk_count, total_bytes, applied_through, status)"
           " VALUES (?, ?, ?, ?, ?, 0, 'pending') USING TIMESTAMP ?"},
      {&statements->select_progress, "SELECT set_order, chunk_count, applied_through, status FROM " + progress +
                                         " WHERE namespace = ? AND set_id = ?"},
      {&statements->select_chunks,
       "SELECT chunk_index, bytes FROM " + chunks + " WHERE namespace = ? AND set_id = ?"},
      {&statements->update_progress,
       "UPDATE " + progress + " USING TIMESTAMP ? SET applied_through = ? WHERE namespace = ? AND set_id = ?"},
      {&statements->update_status,
       "UPDATE " + progress + " USING TIMESTAMP ? SET status = ? WHERE namespace = ? AND set_id = ?"},
      {&statements->delete_progress,
       "DELETE FROM " + progress + " USING TIMESTAMP ? WHERE namespace = ? AND set_id = ?"},
      {&statements->delete_chunks, "DELETE FROM " + chunks + " USING TIMESTAMP ? WHERE namespace = ? AND set_id = ?"},
      {&statements->list, "SELECT set_id, status FROM " + progress + " WHERE namespace = ?"},
  };
  for (const auto& [statement, query] : queries) {
    Result<cql::PreparedStatement> prepared = session_->Prepare(query, timeout);
    if (!prepared.ok()) return Failed(prepared.status(), "preparing statements");
    *statement = std::move(prepared).value();
  }
  statements_ = std::move(statements);
  return statements_;
}

Result<cql::ResultMessage> CassandraSetStore::Execute(const cql::PreparedStatement& statement,
                                                      std::vector<cql::Value> values,
                                                      std::optional<std::string> paging_state) {
  cql::QueryParameters parameters;
  parameters.consistency = options_.settings.connection.consistency;
  parameters.values = std::move(values);
  if (paging_state) parameters.paging_state = std::move(paging_state);
  return session_->Execute(statement, parameters);
}

uint64_t CassandraSetStore::NextOrder() {
  std::lock_guard lock(orders_mutex_);
  last_order_ = std::max<uint64_t>(last_order_ + 1, static_cast<uint64_t>(options_.now_micros()));
  return last_order_;
}

Result<std::optional<uint64_t>> CassandraSetStore::OrderOf(const std::string& set_id) {
  {
    std::lock_guard lock(orders_mutex_);
    if (auto found = orders_.find(set_id); found != orders_.end()) return std::optional<uint64_t>(found->second);
  }
  WAL_ASSIGN_OR_RETURN(auto statements, Ready());
  Result<cql::ResultMessage> row = Execute(
      statements->select_progress, {cql::Value::Text(options_.namespace_name), cql::Value::Text(set_id)});
  if (!row.ok()) return Failed(row.status(), "reading set " + set_id);
  if (row->rows.rows.empty() || cql::RowView(row->rows, 0).IsNull(0)) return std::optional<uint64_t>();
  WAL_ASSIGN_OR_RETURN(int64_t order, cql::RowView(row->rows, 0).BigInt(0));
  std::lock_guard lock(orders_mutex_);
  orders_[set_id] = static_cast<uint64_t>(order);
  return std::optional<uint64_t>(static_cast<uint64_t>(order));
}

Status CassandraSetStore::PersistNow(const std::string& set_id, const std::vector<std::string>& chunks,
                                     uint64_t* order) {
  WAL_ASSIGN_OR_RETURN(auto statements, Ready());
  *order = NextOrder();
  const int64_t timestamp = static_cast<int64_t>(*order);
  int64_t total = 0;
  for (size_t index = 0; index < chunks.size(); ++index) {
    total += static_cast<int64_t>(chunks[index].size());
    Result<cql::ResultMessage> written =
        Execute(statements->insert_chunk, {cql::Value::Text(options_.namespace_name), cql::Value::Text(set_id),
                                           cql::Value::Int(static_cast<int32_t>(index)), cql::Value::Blob(chunks[index]),
                                           cql::Value::BigInt(timestamp)});
    if (!written.ok()) return Failed(written.status(), "storing set " + set_id);
  }
  // The progress row last: it is what makes the set visible.
  Result<cql::ResultMessage> committed = Execute(
      statements->insert_progress,
      {cql::Value::Text(options_.namespace_name), cql::Value::Text(set_id), cql::Value::BigInt(timestamp),
       cql::Value::Int(static_cast<int32_t>(chunks.size())), cql::Value::BigInt(total), cql::Value::BigInt(timestamp)});
  if (!committed.ok()) return Failed(committed.status(), "storing set " + set_id);
  std::lock_guard lock(orders_mutex_);
  orders_[set_id] = *order;
  return Status::Ok();
}

void CassandraSetStore::Persist(const std::string& set_id, std::vector<std::string> chunks, PersistCallback done) {
  auto shared_done = std::make_shared<PersistCallback>(std::move(done));
  bool queued = workers_->Submit([this, set_id, chunks = std::move(chunks), shared_done]() {
    uint64_t order = 0;
    Status status = PersistNow(set_id, chunks, &order);
    (*shared_done)(PersistOutcome{status, order});
  });
  if (!queued) (*shared_done)(PersistOutcome{Unavailable("durable storage is closing"), 0});
}

Result<StoredSet> CassandraSetStore::Load(const std::string& set_id) {
  WAL_ASSIGN_OR_RETURN(auto statements, Ready());
  const std::vector<cql::Value> key = {cql::Value::Text(options_.namespace_name), cql::Value::Text(set_id)};
  Result<cql::ResultMessage> progress = Execute(statements->select_progress, key);
  if (!progress.ok()) return Failed(progress.status(), "loading set " + set_id);
  // A row without its order is what is left of a finished set's stray update.
  if (progress->rows.rows.empty() || cql::RowView(progress->rows, 0).IsNull(0)) {
    return NotFound("mutation set " + set_id + " is not stored (done or unknown)");
  }
  cql::RowView row(progress->rows, 0);
  StoredSet stored;
  WAL_ASSIGN_OR_RETURN(int64_t order, row.BigInt(0));
  WAL_ASSIGN_OR_RETURN(int32_t chunk_count, row.Int(1));
  stored.order = static_cast<uint64_t>(order);
  if (!row.IsNull(2)) {
    WAL_ASSIGN_OR_RETURN(int64_t applied, row.BigInt(2));
    stored.applied_through = static_cast<uint64_t>(std::max<int64_t>(applied, 0));
  }
  if (!row.IsNull(3)) {
    WAL_ASSIGN_OR_RETURN(std::string status, row.Text(3));
    stored.state = StateOf(status);
  }
  {
    std::lock_guard lock(orders_mutex_);
    orders_[set_id] = stored.order;
  }
  int32_t expected = 0;
  std::optional<std::string> paging_state;
  do {
    cql::QueryParameters parameters;
    parameters.consistency = options_.settings.connection.consistency;
    parameters.values = key;
    parameters.page_size = kChunksPerPage;
    parameters.paging_state = paging_state;
    Result<cql::ResultMessage> page = session_->Execute(statements->select_chunks, parameters);
    if (!page.ok()) return Failed(page.status(), "loading set " + set_id);
    for (size_t i = 0; i < page->rows.rows.size(); ++i) {
      cql::RowView chunk(page->rows, i);
      WAL_ASSIGN_OR_RETURN(int32_t index, chunk.Int(0));
      if (index != expected) {
        return Corruption("mutation set " + set_id + ": chunk " + std::to_string(expected) + " is missing");
      }
      WAL_ASSIGN_OR_RETURN(std::string bytes, chunk.Bytes(1));
      stored.serialized += bytes;
      ++expected;
    }
    paging_state = page->rows.metadata.paging_state;
  } while (paging_state);
  if (expected != chunk_count) {
    return Corruption("mutation set " + set_id + ": " + std::to_string(expected) + " of " +
                      std::to_string(chunk_count) + " chunks are stored");
  }
  return stored;
}

Status CassandraSetStore::RecordProgress(const std::string& set_id, uint64_t applied_through) {
  WAL_ASSIGN_OR_RETURN(auto statements, Ready());
  WAL_ASSIGN_OR_RETURN(std::optional<uint64_t> order, OrderOf(set_id));
  if (!order) return Status::Ok();  // finished meanwhile: nothing to record
  // The larger count has the later timestamp, so it wins whatever the order of arrival.
  const int64_t timestamp = static_cast<int64_t>(*order + 1 + applied_through);
  Result<cql::ResultMessage> written =
      Execute(statements->update_progress,
              {cql::Value::BigInt(timestamp), cql::Value::BigInt(static_cast<int64_t>(applied_through)),
               cql::Value::Text(options_.namespace_name), cql::Value::Text(set_id)});
  if (!written.ok()) return Failed(written.status(), "recording progress of set " + set_id);
  return Status::Ok();
}

Status CassandraSetStore::SetState(const std::string& set_id, sets::SetState state) {
  WAL_ASSIGN_OR_RETURN(auto statements, Ready());
  WAL_ASSIGN_OR_RETURN(std::optional<uint64_t> order, OrderOf(set_id));
  if (!order) return Status::Ok();  // not stored (finished already)
  const std::vector<cql::Value> key = {cql::Value::Text(options_.namespace_name), cql::Value::Text(set_id)};
  const int64_t now = options_.now_micros();
  if (state == SetState::kDone || state == SetState::kDiscarded) {
    const int64_t timestamp = std::max(static_cast<int64_t>(*order) + kDeleteSpan, now);
    // The progress row first: without it the chunks are unreachable.
    for (const cql::PreparedStatement* statement : {&statements->delete_progress, &statements->delete_chunks}) {
      std::vector<cql::Value> values = {cql::Value::BigInt(timestamp)};
      values.insert(values.end(), key.begin(), key.end());
      Result<cql::ResultMessage> deleted = Execute(*statement, std::move(values));
      if (!deleted.ok()) return Failed(deleted.status(), "finishing set " + set_id);
    }
    std::lock_guard lock(orders_mutex_);
    orders_.erase(set_id);
    return Status::Ok();
  }
  std::vector<cql::Value> values = {cql::Value::BigInt(std::max(now, static_cast<int64_t>(*order) + 1)),
                                    cql::Value::Text(SetStateName(state))};
  values.insert(values.end(), key.begin(), key.end());
  Result<cql::ResultMessage> written = Execute(statements->update_status, std::move(values));
  if (!written.ok()) return Failed(written.status(), "updating set " + set_id);
  return Status::Ok();
}

void CassandraSetStore::DiscardAsync(const std::string& set_id) {
  (void)workers_->Submit([this, set_id] {
    Status status = SetState(set_id, SetState::kDiscarded);
    if (!status.ok()) spdlog::warn("namespace {}: discarding set {}: {}", options_.namespace_name, set_id, status.message());
  });
}

Result<std::vector<LiveSet>> CassandraSetStore::ListLive() {
  WAL_ASSIGN_OR_RETURN(auto statements, Ready());
  std::vector<LiveSet> live;
  std::optional<std::string> paging_state;
  do {
    cql::QueryParameters parameters;
    parameters.consistency = options_.settings.connection.consistency;
    parameters.values = {cql::Value::Text(options_.namespace_name)};
    parameters.page_size = kSetsPerPage;
    parameters.paging_state = paging_state;
    Result<cql::ResultMessage> page = session_->Execute(statements->list, parameters);
    if (!page.ok()) return Failed(page.status(), "listing sets");
    for (size_t i = 0; i < page->rows.rows.size(); ++i) {
      cql::RowView row(page->rows, i);
      if (row.IsNull(1)) continue;  // a stray update's remains, not a stored set
      WAL_ASSIGN_OR_RETURN(std::string set_id, row.Text(0));
      WAL_ASSIGN_OR_RETURN(std::string status, row.Text(1));
      live.push_back(LiveSet{std::move(set_id), StateOf(status)});
    }
    paging_state = page->rows.metadata.paging_state;
  } while (paging_state);
  return live;
}

Status CassandraSetStore::Close() {
  if (workers_) workers_->Shutdown();
  return Status::Ok();
}

SetStoreModule CassandraSetStore::Module() {
  return SetStoreModuleOf<CassandraSetStoreConfig>(
      [](const config::DurableStorageConfig& config, const SetStoreContext& context) -> Result<std::unique_ptr<SetStore>> {
        Options options;
        options.settings = config.settings.Get<CassandraSetStoreConfig>();
        options.namespace_name = context.namespace_name;
        WAL_ASSIGN_OR_RETURN(auto store, Open(std::move(options)));
        return std::unique_ptr<SetStore>(std::move(store));
      });
}

}  // namespace wal::sets
