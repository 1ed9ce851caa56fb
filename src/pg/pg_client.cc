#include "pg/pg_client.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <regex>

namespace wal::pg {
namespace {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// libpq's messages span lines ("...\n\tThis probably means..."); a log line
// and an RPC status want one.
std::string Trimmed(const char* text) {
  std::string message;
  for (const char* c = text != nullptr ? text : ""; *c != '\0'; ++c) {
    const bool space = *c == '\n' || *c == '\t';
    if (space && (message.empty() || message.back() == ' ')) continue;
    message.push_back(space ? ' ' : *c);
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

}  // namespace

bool PgPool::IsRetryableSqlState(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return true;  // no SQLSTATE: the connection failed
  std::string_view klass = sqlstate.substr(0, 2);
  // 08 connection exception, 40 transaction rollback (serialization, deadlock),
  // 53 insufficient resources, 57 operator intervention (shutdown, cancel),
  // 58 system error. 55P03 lock not available.
  return klass == "08" || klass == "40" || klass == "53" || klass == "57" || klass == "58" || sqlstate == "55P03";
}

std::string PgPool::RedactDsn(std::string_view dsn) {
  std::string text(dsn);
  text = std::regex_replace(text, std::regex(R"(password\s*=\s*('[^']*'|\S+))"), "password=***");
  text = std::regex_replace(text, std::regex(R"(://([^:/@]+):[^@]*@)"), "://$1:***@");
  return text;
}

PgPool::PgPool(std::string dsn, std::chrono::milliseconds timeout, size_t max_idle)
    : dsn_(std::move(dsn)), timeout_(timeout), max_idle_(max_idle == 0 ? 1 : max_idle) {}

PgPool::~PgPool() {
  for (pg_conn* connection : idle_) PQfinish(connection);
}

std::optional<PgError> PgPool::Borrow(pg_conn** out) {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      *out = idle_.back();
      idle_.pop_back();
      if (PQstatus(*out) == CONNECTION_OK) return std::nullopt;
      PQfinish(*out);
    }
  }
  const std::string connect_timeout = std::to_string(std::max<int64_t>(1, (timeout_.count() + 999) / 1000));
  // Later keywords override what the expanded DSN says: the timeout is ours.
  const char* keywords[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {dsn_.c_str(), connect_timeout.c_str(), "wald", nullptr};
  pg_conn* connection = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (connection == nullptr) return PgError{true, "", "postgres: out of memory connecting"};
  if (PQstatus(connection) != CONNECTION_OK) {
    PgError error{true, "", "postgres " + RedactDsn(dsn_) + ": connect: " + Trimmed(PQerrorMessage(connection))};
    PQfinish(connection);
    return error;
  }
  // Server notices ("relation already exists, skipping", shutdown warnings)
  // would go straight to stderr, outside the structured log.
  PQsetNoticeProcessor(connection, [](void*, const char*) {}, nullptr);
  const std::string set_timeout = "SET statement_timeout = " + std::to_string(timeout_.count());
  ResultPtr result(PQexec(connection, set_timeout.c_str()));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    PgError error{true, "", "postgres: " + Trimmed(PQerrorMessage(connection))};
    PQfinish(connection);
    return error;
  }
  *out = connection;
  return std::nullopt;
}

void PgPool::Return(pg_conn* connection, bool broken) {
  if (!broken && PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) == PQTRANS_IDLE) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(connection);
      return;
    }
  }
  PQfinish(connection);
}

PgResult PgSession::Exec(const std::string& sql, const std::vector<PgParam>& params, bool binary_results) {
  PgResult out;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  values.reserve(params.size());
  static const char kEmpty[] = "";
  for (const PgParam& param : params) {
    if (!param.value) {
      values.push_back(nullptr);
      lengths.push_back(0);
    } else {
      values.push_back(param.value->empty() ? kEmpty : param.value->data());
      lengths.push_back(static_cast<int>(param.value->size()));
    }
    formats.push_back(param.binary ? 1 : 0);
  }
  // Text parameters must be NUL-terminated for libpq; copy them.
  std::vector<std::string> text_copies;
  text_copies.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].value && !params[i].binary) {
      text_copies.emplace_back(*params[i].value);
      values[i] = text_copies.back().c_str();
    }
  }
  // Without parameters the simple protocol runs it, which allows several
  // ';'-separated statements (schema set-up).
  ResultPtr result(params.empty() && !binary_results
                       ? PQexec(connection_, sql.c_str())
                       : PQexecParams(connection_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                      values.data(), lengths.data(), formats.data(), binary_results ? 1 : 0));
  if (!result) {
    broken_ = true;
    out.error = PgError{true, "", "postgres: " + Trimmed(PQerrorMessage(connection_))};
    return out;
  }
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    std::string sqlstate = state != nullptr ? state : "";
    if (PQstatus(connection_) != CONNECTION_OK) broken_ = true;
    out.error = PgError{PgPool::IsRetryableSqlState(sqlstate) || broken_, sqlstate,
                        "postgres: " + Trimmed(PQresultErrorMessage(result.get())) +
                            (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")")};
    return out;
  }
  const char* affected = PQcmdTuples(result.get());
  if (affected != nullptr && affected[0] != '\0') out.rows.affected = std::strtoull(affected, nullptr, 10);
  const int rows = PQntuples(result.get());
  const int columns = PQnfields(result.get());
  out.rows.rows.resize(static_cast<size_t>(rows));
  for (int row = 0; row < rows; ++row) {
    auto& cells = out.rows.rows[static_cast<size_t>(row)];
    cells.reserve(static_cast<size_t>(columns));
    for (int column = 0; column < columns; ++column) {
      if (PQgetisnull(result.get(), row, column)) {
        cells.emplace_back(std::nullopt);
      } else {
        cells.emplace_back(std::string(PQgetvalue(result.get(), row, column),
                                       static_cast<size_t>(PQgetlength(result.get(), row, column))));
      }
    }
  }
  return out;
}

PgResult PgPool::Exec(const std::string& sql, const std::vector<PgParam>& params, bool binary_results) {
  pg_conn* connection = nullptr;
  if (auto error = Borrow(&connection)) return PgResult{std::move(error), {}};
  PgSession session(connection);
  PgResult result = session.Exec(sql, params, binary_results);
  Return(connection, session.broken_);
  return result;
}

std::optional<PgError> PgPool::Transaction(const std::function<std::optional<PgError>(PgSession&)>& body) {
  pg_conn* connection = nullptr;
  if (auto error = Borrow(&connection)) return error;
  PgSession session(connection);
  std::optional<PgError> error = session.Exec("BEGIN").error;
  if (!error) error = body(session);
  if (!error) error = session.Exec("COMMIT").error;
  if (error && !session.broken_ && PQtransactionStatus(connection) != PQTRANS_IDLE) {
    if (session.Exec("ROLLBACK").error) session.broken_ = true;
  }
  Return(connection, session.broken_);
  return error;
}

std::optional<PgError> PgPool::Ping() { return Exec("SELECT 1").error; }

}  // namespace wal::pg
