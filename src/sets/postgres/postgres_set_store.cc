#include "sets/postgres/postgres_set_store.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "sets/postgres/postgres_config.h"
#include "pg/pg_client.h"

namespace wal::sets {
namespace {

Status FromPg(const pg::PgError& error, std::string_view what) {
  std::string message = "durable storage (postgres): " + std::string(what) + ": " + error.message;
  return error.retryable ? Unavailable(std::move(message)) : IOError(std::move(message));
}

uint64_t ParseU64(const std::string& text) { return std::strtoull(text.c_str(), nullptr, 10); }

}  // namespace

PostgresSetStore::PostgresSetStore(Options options)
    : options_(std::move(options)),
      chunks_table_("\"" + options_.table + "\""),
      progress_table_("\"" + options_.table + "_progress\""),
      pool_(std::make_unique<pg::PgPool>(options_.dsn, options_.timeout, options_.writer_threads + 4)) {}

Result<std::unique_ptr<PostgresSetStore>> PostgresSetStore::Open(Options options) {
  if (options.dsn.empty()) return InvalidArgument("durable_storage.dsn: required for durable_storage type 'postgres'");
  if (options.writer_threads == 0) options.writer_threads = 1;
  std::unique_ptr<PostgresSetStore> store(new PostgresSetStore(std::move(options)));
  // The database may be down now; the schema is made on first use then.
  if (Status ready = store->EnsureSchema(); !ready.ok()) {
    spdlog::warn("namespace {}: {}; sets wait until it is reachable", store->options_.namespace_name, ready.message());
  }
  store->workers_ = std::make_unique<BlockingExecutor>(store->options_.writer_threads);
  return store;
}

PostgresSetStore::~PostgresSetStore() { (void)Close(); }

Status PostgresSetStore::EnsureSchema() {
  std::lock_guard lock(schema_mutex_);
  if (schema_ready_) return Status::Ok();
  const std::string sql =
      "CREATE TABLE IF NOT EXISTS " + chunks_table_ +
      " (namespace TEXT NOT NULL, set_id TEXT NOT NULL, chunk_index INTEGER NOT NULL, bytes BYTEA NOT NULL,"
      " PRIMARY KEY (namespace, set_id, chunk_index));"
      "CREATE TABLE IF NOT EXISTS " + progress_table_ +
      " (namespace TEXT NOT NULL, set_id TEXT NOT NULL, set_order BIGSERIAL, chunk_count INTEGER NOT NULL,"
      " total_bytes BIGINT NOT NULL, applied_through BIGINT NOT NULL DEFAULT 0,"
      " status TEXT NOT NULL DEFAULT 'pending', created_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
      " updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (namespace, set_id))";
  pg::PgResult result = pool_->Exec(sql);
  if (!result.ok()) {
    // Concurrent creators race on the catalog; the loser's tables exist anyway.
    if (result.error->sqlstate == "23505" || result.error->sqlstate == "42P07") return Unavailable("schema race");
    return FromPg(*result.error, "creating tables");
  }
  schema_ready_ = true;
  return Status::Ok();
}

Status PostgresSetStore::PersistNow(const std::string& set_id, const std::vector<std::string>& chunks,
                                    uint64_t* order) {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  uint64_t total = 0;
  for (const auto& chunk : chunks) total += chunk.size();
  const std::string chunk_count = std::to_string(chunks.size());
  const std::string total_text = std::to_string(total);
  auto error = pool_->Transaction([&](pg::PgSession& session) -> std::optional<pg::PgError> {
    pg::PgResult inserted = session.Exec(
        "INSERT INTO " + progress_table_ +
            " (namespace, set_id, chunk_count, total_bytes) VALUES ($1, $2, $3, $4) RETURNING set_order::text",
        {pg::PgParam::Text(options_.namespace_name), pg::PgParam::Text(set_id), pg::PgParam::Text(chunk_count),
         pg::PgParam::Text(total_text)});
    if (!inserted.ok()) return inserted.error;
    if (inserted.rows.rows.empty() || !inserted.rows.rows[0][0]) return pg::PgError{false, "", "no set_order returned"};
    *order = ParseU64(*inserted.rows.rows[0][0]);
    const std::string insert_chunk = "INSERT INTO " + chunks_table_ +
                                     " (namespace, set_id, chunk_index, bytes) VALUES ($1, $2, $3, $4)";
    for (size_t index = 0; index < chunks.size(); ++index) {
      const std::string index_text = std::to_string(index);
      pg::PgResult chunk = session.Exec(insert_chunk, {pg::PgParam::Text(options_.namespace_name),
                                                       pg::PgParam::Text(set_id), pg::PgParam::Text(index_text),
                                                       pg::PgParam::Bytes(chunks[index])});
      if (!chunk.ok()) return chunk.error;
    }
    return std::nullopt;
  });
  if (error) return FromPg(*error, "storing set " + set_id);
  return Status::Ok();
}

void PostgresSetStore::Persist(const std::string& set_id, std::vector<std::string> chunks, PersistCallback done) {
  auto shared_done = std::make_shared<PersistCallback>(std::move(done));
  bool queued = workers_->Submit([this, set_id, chunks = std::move(chunks), shared_done]() {
    uint64_t order = 0;
    Status status = PersistNow(set_id, chunks, &order);
    (*shared_done)(PersistOutcome{status, order});
  });
  if (!queued) (*shared_done)(PersistOutcome{Unavailable("durable storage is closing"), 0});
}

Result<StoredSet> PostgresSetStore::Load(const std::string& set_id) {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  pg::PgResult progress = pool_->Exec("SELECT applied_through::text, status, set_order::text, chunk_count::text FROM " +
                                          progress_table_ + " WHERE namespace = $1 AND set_id = $2",
                                      {pg::PgParam::Text(options_.namespace_name), pg::PgParam::Text(set_id)});
  if (!progress.ok()) return FromPg(*progress.error, "loading set " + set_id);
  if (progress.rows.rows.empty()) return NotFound("mutation set " + set_id + " is not stored (done or unknown)");
  const auto& row = progress.rows.rows[0];
  StoredSet stored;
  stored.applied_through = ParseU64(row[0].value_or("0"));
  const std::string status = row[1].value_or("pending");
  stored.state = status == "dead" ? SetState::kDead : status == "done" ? SetState::kDone : SetState::kPending;
  stored.order = ParseU64(row[2].value_or("0"));
  const uint64_t chunk_count = ParseU64(row[3].value_or("0"));
  pg::PgResult chunks = pool_->Exec("SELECT chunk_index::text, bytes FROM " + chunks_table_ +
                                        " WHERE namespace = $1 AND set_id = $2 ORDER BY chunk_index",
                                    {pg::PgParam::Text(options_.namespace_name), pg::PgParam::Text(set_id)},
                                    /*binary_results=*/true);
  if (!chunks.ok()) return FromPg(*chunks.error, "loading set " + set_id);
  if (chunks.rows.rows.size() != chunk_count) {
    return Corruption("mutation set " + set_id + ": " + std::to_string(chunks.rows.rows.size()) + " of " +
                      std::to_string(chunk_count) + " chunks are stored");
  }
  for (size_t index = 0; index < chunks.rows.rows.size(); ++index) {
    const auto& chunk = chunks.rows.rows[index];
    if (chunk[0].value_or("") != std::to_string(index) || !chunk[1]) {
      return Corruption("mutation set " + set_id + ": chunk " + std::to_string(index) + " is missing");
    }
    stored.serialized += *chunk[1];
  }
  return stored;
}

Status PostgresSetStore::RecordProgress(const std::string& set_id, uint64_t applied_through) {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  const std::string through = std::to_string(applied_through);
  pg::PgResult result = pool_->Exec("UPDATE " + progress_table_ +
                                        " SET applied_through = GREATEST(applied_through, $3::bigint), updated_at = now()"
                                        " WHERE namespace = $1 AND set_id = $2",
                                    {pg::PgParam::Text(options_.namespace_name), pg::PgParam::Text(set_id),
                                     pg::PgParam::Text(through)});
  if (!result.ok()) return FromPg(*result.error, "recording progress of set " + set_id);
  return Status::Ok();
}

Status PostgresSetStore::SetState(const std::string& set_id, sets::SetState state) {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  const std::vector<pg::PgParam> key = {pg::PgParam::Text(options_.namespace_name), pg::PgParam::Text(set_id)};
  if (state == SetState::kDone || state == SetState::kDiscarded) {
    auto error = pool_->Transaction([&](pg::PgSession& session) -> std::optional<pg::PgError> {
      pg::PgResult chunks = session.Exec("DELETE FROM " + chunks_table_ + " WHERE namespace = $1 AND set_id = $2", key);
      if (!chunks.ok()) return chunks.error;
      pg::PgResult progress =
          session.Exec("DELETE FROM " + progress_table_ + " WHERE namespace = $1 AND set_id = $2", key);
      return progress.error;
    });
    if (error) return FromPg(*error, "finishing set " + set_id);
    return Status::Ok();
  }
  // The status column holds SetStateName's words: renaming a state changes
  // what existing tables mean.
  const std::string text(SetStateName(state));
  pg::PgResult result = pool_->Exec("UPDATE " + progress_table_ +
                                        " SET status = $3, updated_at = now() WHERE namespace = $1 AND set_id = $2",
                                    {key[0], key[1], pg::PgParam::Text(text)});
  if (!result.ok()) return FromPg(*result.error, "updating set " + set_id);
  return Status::Ok();
}

void PostgresSetStore::DiscardAsync(const std::string& set_id) {
  (void)workers_->Submit([this, set_id] {
    Status status = SetState(set_id, SetState::kDiscarded);
    if (!status.ok()) spdlog::warn("namespace {}: discarding set {}: {}", options_.namespace_name, set_id, status.message());
  });
}

Result<std::vector<LiveSet>> PostgresSetStore::ListLive() {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  pg::PgResult result = pool_->Exec("SELECT set_id, status FROM " + progress_table_ + " WHERE namespace = $1",
                                    {pg::PgParam::Text(options_.namespace_name)});
  if (!result.ok()) return FromPg(*result.error, "listing sets");
  std::vector<LiveSet> live;
  for (const auto& row : result.rows.rows) {
    live.push_back(LiveSet{row[0].value_or(""), row[1].value_or("") == "dead" ? SetState::kDead : SetState::kPending});
  }
  return live;
}

Status PostgresSetStore::Close() {
  if (workers_) workers_->Shutdown();
  return Status::Ok();
}

SetStoreModule PostgresSetStore::Module() {
  return SetStoreModuleOf<PostgresSetStoreConfig>(
      [](const config::DurableStorageConfig& config, const SetStoreContext& context) -> Result<std::unique_ptr<SetStore>> {
        const auto& settings = config.settings.Get<PostgresSetStoreConfig>();
        Options options;
        options.dsn = settings.dsn;
        options.table = settings.table;
        options.namespace_name = context.namespace_name;
        WAL_ASSIGN_OR_RETURN(auto store, Open(options));
        return std::unique_ptr<SetStore>(std::move(store));
      });
}

}  // namespace wal::sets
