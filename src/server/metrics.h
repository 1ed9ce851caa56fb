// Prometheus metrics (text exposition format 0.0.4), served at GET /metrics on
// the HTTP port. Counters and histograms of the front ends are kept here;
// per-namespace gauges (backlog, DLQ depth) and delivery counters are read from
// the engine at scrape time, and the process_* series from /proc.
//
// Series of a namespace that is no longer served here (deleted, unloaded) are
// dropped at the next scrape, so a dashboard does not show it forever and the
// number of series stays bounded by the namespaces that exist. A namespace
// created again under the same name starts its counters at 0 (Prometheus'
// rate() reads that as a counter reset).
//
// Threading: every method is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "common/histogram.h"
#include "common/status.h"
#include "wal/v1/wal.pb.h"

namespace wal::engine {
class Engine;
}

namespace wal::server {

// Where a refused namespace config came from (wal_config_rejects_total{source}).
enum class ConfigSource {
  kApply,  // the admin API (walctl namespaces apply, PUT /v1/namespaces/...)
  kStore,  // the config store, changed by another instance or by hand
};

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;
  // The process's registry (the log's fsync hook reports here).
  static Metrics& Global();

  // A write that reached a decision (durable TRUE/FALSE/UNKNOWN), with its latency.
  void WriteAnswered(const std::string& name, v1::Durable durable, std::chrono::nanoseconds latency);
  // A write refused before anything was stored. `name` is "" when the namespace
  // is not served here (kept out of the labels to bound their number).
  void WriteRejected(const std::string& name, StatusCode code);
  void FsyncObserved(std::chrono::nanoseconds elapsed, bool ok);
  // A namespace config that was refused and so did not become live.
  void ConfigRejected(ConfigSource source);
  void SetDraining(bool draining) { draining_.store(draining); }

  // Not const: it forgets the series of namespaces the engine no longer has.
  std::string Render(const engine::Engine& engine);

 private:
  // Drops the series of namespaces not in `served` ("" is always kept).
  void ForgetOthers(const std::set<std::string>& served);

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, uint64_t> writes_;    // (namespace, durable) -> count
  std::map<std::pair<std::string, std::string>, uint64_t> rejected_;  // (namespace, code) -> count
  // Shared: an observation may still run on a histogram a scrape just forgot.
  std::map<std::string, std::shared_ptr<Histogram>> write_latency_;   // namespace -> seconds
  Histogram fsync_seconds_;
  std::atomic<uint64_t> fsync_failures_{0};
  std::atomic<uint64_t> config_rejects_apply_{0};
  std::atomic<uint64_t> config_rejects_store_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace wal::server
