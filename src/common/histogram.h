// A fixed-bucket histogram of non-negative values (seconds, bytes), for the
// metrics a module records and the server exports. It knows nothing about an
// exposition format: the server reads a Snapshot and renders it.
//
// Threading: Observe and Read are lock-free and may run concurrently; a Read
// taken during an Observe may see the new sample in the count but not yet in
// the sum (metrics tolerate that; nothing else should read it).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace wal {

class Histogram {
 public:
  struct Snapshot {
    std::vector<double> upper_bounds;  // ascending; +Inf is implied after the last
    std::vector<uint64_t> cumulative;  // one per bound, then the +Inf bucket (== count)
    double sum = 0;
  };

  // `upper_bounds` ascending; a value above the last falls in +Inf.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);
  Snapshot Read() const;

  // Prometheus' usual spans, from 100 µs to 10 s (request and fsync latency).
  static std::vector<double> LatencySeconds();
  // From 5 ms to an hour (how late a delayed entry is delivered).
  static std::vector<double> LagSeconds();

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last = +Inf
  std::atomic<double> sum_{0};
};

}  // namespace wal
