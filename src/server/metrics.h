// Prometheus metrics (text exposition format 0.0.4), served at GET /metrics on
// the HTTP port. Counters and histograms are kept here; per-namespace gauges
// (backlog, DLQ depth, delivery counters) are read from the engine at scrape time.
//
// Threading: every method is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "wal/v1/wal.pb.h"

namespace wal::engine {
class Engine;
}

namespace wal::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  // Appends the _bucket/_sum/_count lines; `labels` is "" or `key="value",...`.
  void Render(const std::string& name, const std::string& labels, std::string* out) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last = +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class Metrics {
 public:
  Metrics();
  // The process's registry (the log's fsync hook reports here).
  static Metrics& Global();

  // A write that reached a decision (durable TRUE/FALSE/UNKNOWN), with its latency.
  void WriteAnswered(const std::string& name, v1::Durable durable, std::chrono::nanoseconds latency);
  // A write refused before anything was stored. `name` is "" when the namespace
  // is not served here (kept out of the labels to bound their number).
  void WriteRejected(const std::string& name, StatusCode code);
  void FsyncObserved(std::chrono::nanoseconds elapsed, bool ok);
  void SetDraining(bool draining) { draining_.store(draining); }

  std::string Render(const engine::Engine& engine) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, uint64_t> writes_;    // (namespace, durable) -> count
  std::map<std::pair<std::string, std::string>, uint64_t> rejected_;  // (namespace, code) -> count
  std::map<std::string, std::unique_ptr<Histogram>> write_latency_;   // namespace -> seconds
  Histogram fsync_seconds_;
  std::atomic<uint64_t> fsync_failures_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace wal::server
