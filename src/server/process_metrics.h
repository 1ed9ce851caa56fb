// The process_* metrics every Prometheus client library exports, read from
// Linux's /proc: CPU time, resident memory, open descriptors, start time.
// Dashboards and alerts written for other services then work on wald as-is.
//
// Threading: the functions are pure or read /proc only; safe from any thread.
// Failure: a /proc file that cannot be read or parsed is a Status, and the
// caller leaves those series out rather than exporting wrong numbers.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace wal::server {

struct ProcessStats {
  double cpu_seconds = 0;        // user + system
  double resident_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};

// Parses /proc/self/stat's text. `ticks_per_second` is sysconf(_SC_CLK_TCK),
// `page_size` sysconf(_SC_PAGESIZE), `boot_time_seconds` /proc/stat's btime.
Result<ProcessStats> ParseProcStat(std::string_view stat, double ticks_per_second, double page_size,
                                   double boot_time_seconds);

// Reads /proc/stat's `btime` line: when the machine booted, in epoch seconds.
Result<double> ParseBootTime(std::string_view proc_stat);

// This process's stats, from /proc/self/stat and /proc/stat.
Result<ProcessStats> ReadProcessStats();

// How many descriptors this process holds open (entries of /proc/self/fd).
Result<uint64_t> CountOpenFds();

}  // namespace wal::server
