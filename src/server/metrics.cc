#include "server/metrics.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "engine/engine.h"
#include "server/process_metrics.h"

#ifndef WAL_VERSION
#define WAL_VERSION "unknown"
#endif

namespace wal::server {
namespace {

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

// Appends the _bucket/_sum/_count lines; `labels` is "" or `key="value",...`.
void RenderHistogram(const std::string& name, const std::string& labels, const Histogram& histogram, std::string* out) {
  const Histogram::Snapshot snapshot = histogram.Read();
  const std::string separator = labels.empty() ? "" : ",";
  for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
    const std::string le = i < snapshot.upper_bounds.size() ? Number(snapshot.upper_bounds[i]) : "+Inf";
    Sample(out, name + "_bucket", labels + separator + "le=\"" + le + "\"",
           static_cast<double>(snapshot.cumulative[i]));
  }
  Sample(out, name + "_sum", labels, snapshot.sum);
  Sample(out, name + "_count", labels, static_cast<double>(snapshot.cumulative.back()));
}

// The process_* series client libraries export; left out when /proc cannot be
// read (a number that is wrong is worse than one that is missing).
void RenderProcess(std::string* out) {
  if (auto stats = ReadProcessStats(); stats.ok()) {
    Header(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.");
    Sample(out, "process_cpu_seconds_total", "", stats->cpu_seconds);
    Header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    Sample(out, "process_resident_memory_bytes", "", stats->resident_bytes);
    Header(out, "process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.");
    Sample(out, "process_start_time_seconds", "", stats->start_time_seconds);
  }
  if (auto fds = CountOpenFds(); fds.ok()) {
    Header(out, "process_open_fds", "gauge", "Open file descriptors.");
    Sample(out, "process_open_fds", "", static_cast<double>(*fds));
  }
}

}  // namespace

Metrics::Metrics() : fsync_seconds_(Histogram::LatencySeconds()) {}

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics();  // never destroyed: the commit threads may report during exit
  return *metrics;
}

void Metrics::WriteAnswered(const std::string& name, v1::Durable durable, std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  std::shared_ptr<Histogram> histogram;
  {
    std::lock_guard lock(mutex_);
    ++writes_[{name, v1::Durable_Name(durable)}];
    auto& slot = write_latency_[name];
    if (!slot) slot = std::make_shared<Histogram>(Histogram::LatencySeconds());
    histogram = slot;
  }
  histogram->Observe(seconds);
}

void Metrics::WriteRejected(const std::string& name, StatusCode code) {
  std::lock_guard lock(mutex_);
  ++rejected_[{name, std::string(StatusCodeName(code))}];
}

void Metrics::FsyncObserved(std::chrono::nanoseconds elapsed, bool ok) {
  fsync_seconds_.Observe(std::chrono::duration<double>(elapsed).count());
  if (!ok) fsync_failures_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::ConfigRejected(ConfigSource source) {
  (source == ConfigSource::kApply ? config_rejects_apply_ : config_rejects_store_).fetch_add(1);
}

void Metrics::ForgetOthers(const std::set<std::string>& served) {
  auto gone = [&served](const std::string& name) { return !name.empty() && served.count(name) == 0; };
  std::lock_guard lock(mutex_);
  std::erase_if(writes_, [&](const auto& entry) { return gone(entry.first.first); });
  std::erase_if(rejected_, [&](const auto& entry) { return gone(entry.first.first); });
  std::erase_if(write_latency_, [&](const auto& entry) { return gone(entry.first); });
}

std::string Metrics::Render(const engine::Engine& engine) {
  std::string out;
  out.reserve(16384);
  Header(&out, "wal_up", "gauge", "1 while wald serves; 0 once a graceful shutdown has begun.");
  Sample(&out, "wal_up", "", draining_.load() ? 0 : 1);
  Header(&out, "wal_build_info", "gauge", "Always 1; the labels say which build of wald this is.");
  Sample(&out, "wal_build_info", "version=\"" + Escape(WAL_VERSION) + "\"", 1);
  RenderProcess(&out);
  Header(&out, "wal_config_rejects_total", "counter",
         "Namespace configs refused (not made live), by source: apply (admin API) or store (files, shared store).");
  Sample(&out, "wal_config_rejects_total", "source=\"apply\"", static_cast<double>(config_rejects_apply_.load()));
  Sample(&out, "wal_config_rejects_total", "source=\"store\"", static_cast<double>(config_rejects_store_.load()));

  auto statuses = engine.NamespaceStatuses("");
  if (statuses.ok()) {
    std::set<std::string> served;
    for (const auto& status : *statuses) served.insert(status.name());
    ForgetOthers(served);
  }
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
      RenderHistogram("wal_write_latency_seconds", NamespaceLabel(name), *histogram, &out);
    }
  }
  Header(&out, "wal_log_fsync_seconds", "histogram", "Duration of each group-commit fdatasync of the embedded log.");
  RenderHistogram("wal_log_fsync_seconds", "", fsync_seconds_, &out);
  Header(&out, "wal_log_fsync_failures_total", "counter", "Failed fdatasync calls (the namespace's log is poisoned).");
  Sample(&out, "wal_log_fsync_failures_total", "", static_cast<double>(fsync_failures_.load()));

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
  Header(&out, "wal_namespace_delivery_paused", "gauge",
         "1 while flags.delivery_paused holds the namespace's deliveries (writes are still kept).");
  for (const auto& status : *statuses) {
    if (!status.error().empty() && status.backend().empty()) continue;
    Sample(&out, "wal_namespace_delivery_paused", NamespaceLabel(status.name()), status.delivery_paused() ? 1 : 0);
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
  Header(&out, "wal_target_errors_total", "counter",
         "Failed applies by class: retryable, permanent (not retried), target_unavailable (it cannot be built).");
  for (const auto& [name, runtime] : runtimes) {
    const engine::DeliveryCounters& counters = runtime->counters();
    const std::pair<const char*, uint64_t> classes[] = {
        {"retryable", counters.retryable_errors.load()},
        {"permanent", counters.permanent_errors.load()},
        {"target_unavailable", counters.target_unavailable_errors.load()},
    };
    for (const auto& [error_class, count] : classes) {
      Sample(&out, "wal_target_errors_total", NamespaceLabel(name) + ",class=\"" + error_class + "\"",
             static_cast<double>(count));
    }
  }
  Header(&out, "wal_delivery_lag_seconds", "histogram",
         "Time from an entry's due time to its successful delivery (a retry counts from its own due time).");
  for (const auto& [name, runtime] : runtimes) {
    RenderHistogram("wal_delivery_lag_seconds", NamespaceLabel(name), runtime->counters().delivery_lag_seconds, &out);
  }
  return out;
}

}  // namespace wal::server
