#include "control/postgres_namespace_store.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "common/sql_identifier.h"
#include "target/postgres/pg_client.h"

namespace wal::control {
namespace {

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

constexpr int kPoolConnections = 2;
constexpr size_t kMaxTableName = 48;  // leaves room for "_shard_map_changed" within PostgreSQL's 63

Status Unreachable(const pg::PgError& error) {
  return error.retryable ? Unavailable(error.message) : Internal(error.message);
}

// Pooled connections go stale when PostgreSQL restarts: the first statement on
// one fails without a SQLSTATE. A failure to connect at all is not that, and
// retrying it would only multiply the connect timeout.
bool StaleConnection(const std::optional<pg::PgError>& error) {
  return error && error->sqlstate.empty() && error->message.find(": connect: ") == std::string::npos;
}

// Every statement here is idempotent, so retrying on a fresh connection hides
// stale ones from the caller.
pg::PgResult ExecWithReconnect(pg::PgPool& pool, const std::string& sql, const std::vector<pg::PgParam>& params,
                               bool* retried = nullptr) {
  pg::PgResult result = pool.Exec(sql, params);
  // The pool keeps up to kPoolConnections idle connections, all possibly stale.
  for (int attempt = 0; attempt < kPoolConnections && StaleConnection(result.error); ++attempt) {
    if (retried != nullptr) *retried = true;
    result = pool.Exec(sql, params);
  }
  return result;
}

// CREATE TRIGGER has no IF NOT EXISTS before PostgreSQL 14.
std::string CreateTriggerIfMissing(const std::string& function, const std::string& table) {
  return "DO $body$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '" + function +
         "' AND tgrelid = '" + table + "'::regclass) THEN CREATE TRIGGER " + function +
         " BEFORE INSERT OR UPDATE OR DELETE ON " + table + " FOR EACH ROW EXECUTE FUNCTION " + function +
         "(); END IF; END $body$";
}

std::string Cell(const std::vector<std::optional<std::string>>& row, size_t column) {
  return column < row.size() && row[column] ? *row[column] : std::string();
}

}  // namespace

Result<std::unique_ptr<PostgresNamespaceStore>> PostgresNamespaceStore::Open(FileSystem* file_system,
                                                                             PostgresStoreOptions options) {
  if (file_system == nullptr) return InvalidArgument("postgres config store: file_system is required");
  if (options.modules == nullptr) return InvalidArgument("postgres config store: modules is required");
  if (options.dsn.empty()) return InvalidArgument("config_store.dsn: is required for a postgres config store");
  if (!IsSqlIdentifier(options.table, kMaxTableName)) {
    return InvalidArgument("config_store.table: must match [A-Za-z_][A-Za-z0-9_]{0,47}, got '" + options.table + "'");
  }
  if (!options.cache_dir.empty()) {
    WAL_RETURN_IF_ERROR(file_system->CreateDirectories(options.cache_dir).WithContext("config store cache"));
  }
  std::unique_ptr<PostgresNamespaceStore> store(new PostgresNamespaceStore(file_system, std::move(options)));
  Status schema = store->EnsureSchema();
  if (!schema.ok()) spdlog::warn("{}: not ready yet: {}", store->Describe(), schema.message());
  return store;
}

PostgresNamespaceStore::PostgresNamespaceStore(FileSystem* file_system, PostgresStoreOptions options)
    : file_system_(file_system),
      options_(std::move(options)),
      channel_(Lowercase(options_.table)),
      pool_(std::make_unique<pg::PgPool>(options_.dsn, options_.timeout, kPoolConnections)) {}

PostgresNamespaceStore::~PostgresNamespaceStore() {
  stopping_ = true;
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(stop_fd_, &one, sizeof(one));
  }
  if (listener_.joinable()) listener_.join();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

std::string PostgresNamespaceStore::Describe() const {
  return "postgres " + pg::PgPool::RedactDsn(options_.dsn) + " (table " + options_.table + ")";
}

Status PostgresNamespaceStore::EnsureSchema() {
  std::lock_guard lock(schema_mutex_);
  if (schema_ready_) return Status::Ok();
  const std::string& table = options_.table;
  const std::string function = table + "_changed";
  const std::string shard_map_function = table + "_shard_map_changed";
  auto create = [&](pg::PgSession& session) -> std::optional<pg::PgError> {
    // Serialises instances that start together: CREATE ... IF NOT EXISTS is
    // not safe against a concurrent creator.
    if (auto failed = session.Exec("SELECT pg_advisory_xact_lock(hashtext($1))", {pg::PgParam::Text(table)}).error) {
      return failed;
    }
    const std::string statements[] = {
        "CREATE SEQUENCE IF NOT EXISTS " + table + "_revision",
        "CREATE TABLE IF NOT EXISTS " + table +
            " (name text PRIMARY KEY, config text NOT NULL, revision bigint NOT NULL DEFAULT 0,"
            " updated_at timestamptz NOT NULL DEFAULT now(), updated_by text NOT NULL DEFAULT '')",
        // The revision and the notification come from the trigger, so an
        // operator's UPDATE in psql propagates like an admin API call.
        "CREATE OR REPLACE FUNCTION " + function +
            "() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN"
            " IF TG_OP = 'DELETE' THEN PERFORM pg_notify('" + channel_ + "', OLD.name); RETURN OLD; END IF;"
            " NEW.revision := nextval('" + table + "_revision'); NEW.updated_at := now();"
            " PERFORM pg_notify('" + channel_ + "', NEW.name); RETURN NEW; END $body$",
        CreateTriggerIfMissing(function, table),
        // The shard map: a single row (id is always true).
        "CREATE TABLE IF NOT EXISTS " + table +
            "_shard_map (id boolean PRIMARY KEY DEFAULT true CHECK (id), map text NOT NULL,"
            " revision bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now(),"
            " updated_by text NOT NULL DEFAULT '')",
        "CREATE OR REPLACE FUNCTION " + shard_map_function +
            "() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN"
            " PERFORM pg_notify('" + channel_ + "', '');"
            " IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;"
            " NEW.revision := nextval('" + table + "_revision'); NEW.updated_at := now(); RETURN NEW; END $body$",
        CreateTriggerIfMissing(shard_map_function, table + "_shard_map")};
    for (const std::string& statement : statements) {
      if (auto failed = session.Exec(statement).error) return failed;
    }
    return std::nullopt;
  };
  auto error = pool_->Transaction(create);
  // Stale pooled connections (see ExecWithReconnect): retry on fresh ones.
  for (int attempt = 0; attempt < kPoolConnections && StaleConnection(error); ++attempt) {
    error = pool_->Transaction(create);
  }
  if (error) return Unreachable(*error);
  schema_ready_ = true;
  return Status::Ok();
}

Result<config::NamespaceConfig> PostgresNamespaceStore::ParseRow(const std::string& name,
                                                                 const std::string& text) const {
  const std::string source = options_.table + "[" + name + "]";
  WAL_ASSIGN_OR_RETURN(config::NamespaceConfig config, config::ParseNamespace(text, config::Format::kYaml, source, *options_.modules));
  if (config.name != name) {
    return InvalidArgument(source + ": name: '" + config.name + "' does not match the row's name");
  }
  return config;
}

Result<StoreContents> PostgresNamespaceStore::LoadAll() {
  Status schema = EnsureSchema();
  pg::PgResult result;
  if (schema.ok()) result = ExecWithReconnect(*pool_, "SELECT name, config FROM " + options_.table + " ORDER BY name", {});
  if (!schema.ok() || !result.ok()) {
    Status failure = schema.ok() ? Failed(*result.error) : schema;
    if (options_.cache_dir.empty() || failure.code() != StatusCode::kUnavailable) return failure;
    config::DirectoryLoad cached = config::LoadNamespaceDirectory(file_system_, options_.cache_dir, *options_.modules);
    if (cached.namespaces.empty()) return failure;
    spdlog::warn("{} unreachable ({}); serving the {} namespaces cached in {} until it is back", Describe(),
                 failure.message(), cached.namespaces.size(), options_.cache_dir);
    return StoreContents{std::move(cached.namespaces), std::move(cached.errors)};
  }
  StoreContents contents;
  std::map<std::string, std::string> names;
  for (const auto& row : result.rows.rows) {
    const std::string name = Cell(row, 0);
    names.emplace(name, "");
    auto parsed = ParseRow(name, Cell(row, 1));
    if (!parsed.ok()) {
      contents.errors.push_back(parsed.status());
      continue;
    }
    CachePut(*parsed);
    contents.namespaces.push_back(std::move(parsed).value());
  }
  CacheKeepOnly(names);
  return contents;
}

Result<std::map<std::string, std::string>> PostgresNamespaceStore::Revisions() {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  pg::PgResult result = ExecWithReconnect(*pool_, "SELECT name, revision::text FROM " + options_.table, {});
  if (!result.ok()) return Failed(*result.error);
  std::map<std::string, std::string> revisions;
  for (const auto& row : result.rows.rows) revisions.emplace(Cell(row, 0), Cell(row, 1));
  CacheKeepOnly(revisions);
  return revisions;
}

Result<config::NamespaceConfig> PostgresNamespaceStore::Load(const std::string& name) {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  pg::PgResult result =
      ExecWithReconnect(*pool_, "SELECT config FROM " + options_.table + " WHERE name = $1", {pg::PgParam::Text(name)});
  if (!result.ok()) return Failed(*result.error);
  if (result.rows.rows.empty()) return NotFound("namespace " + name + " is not in " + Describe());
  WAL_ASSIGN_OR_RETURN(config::NamespaceConfig config, ParseRow(name, Cell(result.rows.rows.front(), 0)));
  CachePut(config);
  return config;
}

Status PostgresNamespaceStore::Save(const config::NamespaceConfig& config) {
  WAL_RETURN_IF_ERROR(config::ValidateNamespace(config));
  WAL_RETURN_IF_ERROR(EnsureSchema());
  const std::string text = config::SaveNamespace(config, config::Format::kYaml);
  pg::PgResult result = ExecWithReconnect(
      *pool_,
      "INSERT INTO " + options_.table + " (name, config, updated_by) VALUES ($1, $2, $3) "
      "ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, updated_by = EXCLUDED.updated_by",
      {pg::PgParam::Text(config.name), pg::PgParam::Text(text), pg::PgParam::Text(options_.instance)});
  if (!result.ok()) return Failed(*result.error);
  CachePut(config);
  return Status::Ok();
}

Status PostgresNamespaceStore::Remove(const std::string& name) {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  bool retried = false;
  pg::PgResult result = ExecWithReconnect(*pool_, "DELETE FROM " + options_.table + " WHERE name = $1",
                                          {pg::PgParam::Text(name)}, &retried);
  if (!result.ok()) return Failed(*result.error);
  CacheRemove(name);
  // After a retry, nothing to delete may mean the first attempt deleted it.
  if (result.rows.affected == 0 && !retried) return NotFound("namespace " + name + " is not in " + Describe());
  return Status::Ok();
}

Status PostgresNamespaceStore::Failed(const pg::PgError& error) {
  if (error.sqlstate == "42P01") {  // undefined_table: dropped behind our back; recreate on the next call
    std::lock_guard lock(schema_mutex_);
    schema_ready_ = false;
  }
  return Unreachable(error);
}

Result<NamespaceStore::StoredDocument> PostgresNamespaceStore::LoadShardMap() {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  pg::PgResult result = ExecWithReconnect(*pool_, "SELECT map, revision::text FROM " + options_.table + "_shard_map", {});
  if (!result.ok()) return Failed(*result.error);
  if (result.rows.rows.empty()) return NotFound("no shard map is stored in " + Describe());
  return StoredDocument{Cell(result.rows.rows.front(), 0), Cell(result.rows.rows.front(), 1)};
}

Status PostgresNamespaceStore::SaveShardMap(const std::string& text) {
  WAL_RETURN_IF_ERROR(EnsureSchema());
  pg::PgResult result = ExecWithReconnect(
      *pool_,
      "INSERT INTO " + options_.table + "_shard_map (id, map, updated_by) VALUES (true, $1, $2) "
      "ON CONFLICT (id) DO UPDATE SET map = EXCLUDED.map, updated_by = EXCLUDED.updated_by",
      {pg::PgParam::Text(text), pg::PgParam::Text(options_.instance)});
  if (!result.ok()) return Failed(*result.error);
  return Status::Ok();
}

// The cache is best effort: a failure to write it costs only the ability to
// start during an outage, so it is logged and never fails the caller.
void PostgresNamespaceStore::CachePut(const config::NamespaceConfig& config) {
  if (options_.cache_dir.empty()) return;
  auto cached = config::LoadNamespaceFile(file_system_, options_.cache_dir + "/" + config.name + ".yaml", *options_.modules);
  if (cached.ok() && *cached == config) return;
  Status saved = config::SaveNamespaceFile(file_system_, options_.cache_dir, config);
  if (!saved.ok()) spdlog::warn("config store cache: {}", saved.message());
}

void PostgresNamespaceStore::CacheRemove(const std::string& name) {
  if (options_.cache_dir.empty()) return;
  Status removed = config::DeleteNamespaceFile(file_system_, options_.cache_dir, name);
  if (!removed.ok() && removed.code() != StatusCode::kNotFound) spdlog::warn("config store cache: {}", removed.message());
}

void PostgresNamespaceStore::CacheKeepOnly(const std::map<std::string, std::string>& names) {
  if (options_.cache_dir.empty()) return;
  auto files = file_system_->ListDirectory(options_.cache_dir);
  if (!files.ok()) return;
  for (const std::string& file_name : files.value()) {
    if (!file_name.ends_with(".yaml")) continue;
    const std::string name = file_name.substr(0, file_name.size() - 5);
    if (names.count(name) == 0) CacheRemove(name);
  }
}

void PostgresNamespaceStore::SetChangeListener(std::function<void()> on_change) {
  if (!on_change || listener_.joinable()) return;
  on_change_ = std::move(on_change);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    spdlog::warn("{}: no change notifications (eventfd failed); polling only", Describe());
    return;
  }
  listener_ = std::thread([this] { ListenLoop(); });
}

// One connection that only LISTENs. Any failure drops it and reconnects after a
// pause; changes made meanwhile are found by the watcher's next poll.
void PostgresNamespaceStore::ListenLoop() {
  const std::string connect_timeout = std::to_string(std::max<int64_t>(1, (options_.timeout.count() + 999) / 1000));
  auto wait_for_stop = [this](int milliseconds) {
    pollfd stop{stop_fd_, POLLIN, 0};
    return ::poll(&stop, 1, milliseconds) > 0 || stopping_.load();
  };
  bool reported = false;
  while (!stopping_) {
    const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {options_.dsn.c_str(), connect_timeout.c_str(), "wald-config-listener", nullptr};
    PGconn* connection = PQconnectdbParams(keywords, values, 1);
    PQsetNoticeProcessor(connection, [](void*, const char*) {}, nullptr);
    const std::string listen = "LISTEN " + channel_;
    PGresult* listened = nullptr;
    if (PQstatus(connection) == CONNECTION_OK) listened = PQexec(connection, listen.c_str());
    if (listened == nullptr || PQresultStatus(listened) != PGRES_COMMAND_OK) {
      if (!reported) {
        spdlog::warn("{}: change notifications unavailable ({}); polling meanwhile", Describe(),
                     pg::PgPool::RedactDsn(PQerrorMessage(connection)));
        reported = true;
      }
      if (listened != nullptr) PQclear(listened);
      PQfinish(connection);
      if (wait_for_stop(2000)) break;
      continue;
    }
    PQclear(listened);
    reported = false;
    // Anything committed while we were not listening.
    on_change_();
    while (!stopping_) {
      // A connection libpq has already given up on has no socket to poll.
      if (PQstatus(connection) != CONNECTION_OK || PQsocket(connection) < 0) break;
      pollfd fds[2] = {{PQsocket(connection), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, 30'000) < 0) continue;
      if (fds[1].revents != 0 || stopping_) break;
      if (fds[0].revents == 0) continue;
      if (PQconsumeInput(connection) == 0) break;  // connection lost
      bool notified = false;
      while (PGnotify* notification = PQnotifies(connection)) {
        notified = true;
        PQfreemem(notification);
      }
      if (notified) on_change_();
    }
    PQfinish(connection);
    if (!stopping_ && wait_for_stop(1000)) break;
  }
}

}  // namespace wal::control
