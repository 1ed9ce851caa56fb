#include "server/metrics.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <charconv>

#include "engine/engine.h"

namespace wal::server {
namespace {

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// The shortest text that reads back as `value` (0.0025, not 0.0025000000000000001).
std::string Number(double value) {
  char text[64];
  auto [end, error] = std::to_chars(text, text + sizeof(text), value);
  return error == std::errc() ? std::string(text, end) : std::string("NaN");
}

std::string Escape(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') escaped.push_back('\\');
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped.push_back(c);
  }
  return escaped;
}

void Header(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

void Sample(std::string* out, const std::string& name, const std::string& labels, double value) {
  *out += name;
  if (!labels.empty()) *out += "{" + labels + "}";
  *out += ' ';
  *out += Number(value);
  *out += '\n';
}

std::string NamespaceLabel(const std::string& name) { return "namespace=\"" + Escape(name) + "\""; }

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double value) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Render(const std::string& name, const std::string& labels, std::string* out) const {
  const std::string separator = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_.size() ? Number(bounds_[i]) : "+Inf";
    Sample(out, name + "_bucket", labels + separator + "le=\"" + le + "\"", static_cast<double>(cumulative));
  }
  Sample(out, name + "_sum", labels, sum_.load(std::memory_order_relaxed));
  Sample(out, name + "_count", labels, static_cast<double>(cumulative));
}

Metrics::Metrics() : fsync_seconds_(LatencyBuckets()) {}

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics();  // never destroyed: the commit threads may report during exit
  return *metrics;
}

void Metrics::WriteAnswered(const std::string& name, v1::Durable durable, std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  Histogram* histogram = nullptr;
  {
    std::lock_guard lock(mutex_);
    ++writes_[{name, v1::Durable_Name(durable)}];
    auto& slot = write_latency_[name];
    if (!slot) slot = std::make_unique<Histogram>(LatencyBuckets());
    histogram = slot.get();
  }
  histogram->Observe(seconds);  // histograms are never removed, so this outlives the lock
}

void Metrics::WriteRejected(const std::string& name, StatusCode code) {
  std::lock_guard lock(mutex_);
  ++rejected_[{name, std::string(StatusCodeName(code))}];
}

void Metrics::FsyncObserved(std::chrono::nanoseconds elapsed, bool ok) {
  fsync_seconds_.Observe(std::chrono::duration<double>(elapsed).count());
  if (!ok) fsync_failures_.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::Render(const engine::Engine& engine) const {
  std::string out;
  out.reserve(16384);
  Header(&out, "wal_up", "gauge", "1 while wald serves; 0 once a graceful shutdown has begun.");
  Sample(&out, "wal_up", "", draining_.load() ? 0 : 1);
  {
    std::lock_guard lock(mutex_);
    Header(&out, "wal_writes_total", "counter", "Writes that reached a decision, by durable outcome.");
    for (const auto& [key, count] : writes_) {
      Sample(&out, "wal_writes_total", NamespaceLabel(key.first) + ",durable=\"" + key.second + "\"",
             static_cast<double>(count));
    }
    Header(&out, "wal_writes_rejected_total", "counter",
           "Writes refused before anything was stored, by status code (namespace \"\" = not served here).");
    for (const auto& [key, count] : rejected_) {
      Sample(&out, "wal_writes_rejected_total", NamespaceLabel(key.first) + ",code=\"" + key.second + "\"",
             static_cast<double>(count));
    }
    Header(&out, "wal_write_latency_seconds", "histogram", "Time from receiving a write to its durable answer.");
    for (const auto& [name, histogram] : write_latency_) {
      histogram->Render("wal_write_latency_seconds", NamespaceLabel(name), &out);
    }
  }
  Header(&out, "wal_log_fsync_seconds", "histogram", "Duration of each group-commit fdatasync of the embedded log.");
  fsync_seconds_.Render("wal_log_fsync_seconds", "", &out);
  Header(&out, "wal_log_fsync_failures_total", "counter", "Failed fdatasync calls (the namespace's log is poisoned).");
  Sample(&out, "wal_log_fsync_failures_total", "", static_cast<double>(fsync_failures_.load()));

  auto statuses = engine.NamespaceStatuses("");
  if (!statuses.ok()) return out;
  struct Gauge {
    const char* name;
    const char* help;
    uint64_t (v1::NamespaceStatus::*get)() const;
  };
  const Gauge gauges[] = {
      {"wal_namespace_pending", "Entries accepted and not yet done (the backlog), due or not.",
       &v1::NamespaceStatus::pending},
      {"wal_namespace_pending_delayed", "Pending entries whose due time has not come.",
       &v1::NamespaceStatus::pending_delayed},
      {"wal_namespace_in_flight", "Entries handed to a delivery worker and not yet done.",
       &v1::NamespaceStatus::in_flight},
      {"wal_namespace_dead_letters", "Entries in the dead-letter queue (DLQ depth).", &v1::NamespaceStatus::dead_letters},
      {"wal_namespace_log_end", "The id the next write will get.", &v1::NamespaceStatus::log_end},
      {"wal_namespace_consumed", "Every id below this is done.", &v1::NamespaceStatus::consumed},
      {"wal_namespace_bytes", "Bytes of records stored.", &v1::NamespaceStatus::bytes},
      {"wal_namespace_segments", "Log segments stored.", &v1::NamespaceStatus::segments},
  };
  for (const Gauge& gauge : gauges) {
    Header(&out, gauge.name, "gauge", gauge.help);
    for (const auto& status : *statuses) {
      if (!status.error().empty() && status.backend().empty()) continue;
      Sample(&out, gauge.name, NamespaceLabel(status.name()), static_cast<double>((status.*gauge.get)()));
    }
  }
  Header(&out, "wal_namespace_writable", "gauge", "1 when the namespace takes writes, 0 when it failed or is poisoned.");
  for (const auto& status : *statuses) {
    Sample(&out, "wal_namespace_writable", NamespaceLabel(status.name()), status.writable() ? 1 : 0);
  }

  // Lag: the age of the oldest entry not yet done (embedded log only: reading
  // one entry there is a local read).
  Header(&out, "wal_namespace_oldest_pending_age_seconds", "gauge",
         "Seconds since the oldest pending entry was accepted (0 when none is pending).");
  const int64_t now_ms = google::protobuf::util::TimeUtil::TimestampToMilliseconds(
      google::protobuf::util::TimeUtil::GetCurrentTime());
  for (const auto& status : *statuses) {
    if (status.backend() != "local") continue;
    double age = 0;
    if (status.pending() > 0) {
      auto oldest = engine.ReadLog(status.name(), status.consumed(), 1);
      if (oldest.ok() && !oldest->empty()) {
        const int64_t accepted_ms =
            google::protobuf::util::TimeUtil::TimestampToMilliseconds(oldest->front().record.accepted_time());
        age = std::max<double>(0, static_cast<double>(now_ms - accepted_ms) / 1000.0);
      }
    }
    Sample(&out, "wal_namespace_oldest_pending_age_seconds", NamespaceLabel(status.name()), age);
  }

  Header(&out, "wal_deliveries_total", "counter",
         "Delivery attempts by result: delivered, dead_lettered, failed (a target refused; retried or dead-lettered).");
  std::vector<std::pair<std::string, std::shared_ptr<engine::NamespaceRuntime>>> runtimes;
  for (const auto& status : *statuses) {
    auto runtime = engine.Runtime(status.name());
    if (runtime.ok()) runtimes.emplace_back(status.name(), *runtime);
  }
  for (const auto& [name, runtime] : runtimes) {
    engine::DeliveryCounters& counters = runtime->counters();
    const std::string labels = NamespaceLabel(name);
    Sample(&out, "wal_deliveries_total", labels + ",result=\"delivered\"", static_cast<double>(counters.delivered.load()));
    Sample(&out, "wal_deliveries_total", labels + ",result=\"dead_lettered\"",
           static_cast<double>(counters.dead_lettered.load()));
    Sample(&out, "wal_deliveries_total", labels + ",result=\"failed\"", static_cast<double>(counters.failed_applies.load()));
  }
  Header(&out, "wal_delivery_retries_total", "counter", "Entries put back for another attempt after a failure.");
  for (const auto& [name, runtime] : runtimes) {
    Sample(&out, "wal_delivery_retries_total", NamespaceLabel(name), static_cast<double>(runtime->counters().retried.load()));
  }
  return out;
}

}  // namespace wal::server
