// The embedded-log backend: a queue::Backend over two log::Logs.
//
//   <data_dir>/log   the main queue: ENTRY and RETIRE envelopes (envelope.h)
//   <data_dir>/dlq   the dead-letter queue, same format; its ENTRYs carry the
//                    main-log id they came from
//
// Durable state is only the logs and their consumer checkpoints. In memory the
// backend keeps, per log, a bitmap of done ids from the consumed watermark to
// the log end, and for the main log a (due, id) min-heap of pending entries
// with lazy deletion: 16 bytes per pending entry plus one bit per id in the
// window. Records are read back from the log when handed out. The recovery and
// copy-forward rules are in docs/log-format.md ("Queue envelope").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "log/log.h"
#include "queue/queue.h"

namespace wal::queue::local {

struct LocalBackendOptions {
  // How often the background thread checkpoints the consumed watermarks
  // (CommitConsumed, which also deletes fully consumed segments).
  std::chrono::milliseconds checkpoint_interval{100};
  // How often the background thread runs copy-forward; zero disables the
  // background pass (RunMaintenance still runs it).
  std::chrono::milliseconds copy_forward_interval{1000};
  // Copy-forward considers the segment holding the watermark only when at least
  // this many newer segments exist (so recent entries are never copied).
  size_t copy_forward_min_newer_segments = 2;
  // ...and copies its still-pending entries when there are at most this many
  // and at most this fraction of the segment's ids.
  uint64_t copy_forward_max_entries = 10000;
  double copy_forward_max_fraction = 0.10;
  // Test hook: DeadLetter stops after the DLQ append is durable, as if the
  // process died before retiring the original, and reports kInternal.
  bool crash_after_dead_letter_append_for_test = false;
};

struct LocalBackendStats {
  uint64_t copy_forward_passes = 0;    // passes that copied at least one entry
  uint64_t entries_copied_forward = 0; // total entries re-appended by copy-forward
  uint64_t dlq_consumed = 0;           // the DLQ's watermark
  uint64_t recovered_pending = 0;      // pending entries found by recovery at open
  uint64_t recovery_millis = 0;        // how long the open-time scan took
};

// The local backend with its extra, backend-specific surface.
class LocalBackend : public Backend {
 public:
  // Runs one maintenance pass now: checkpoints both logs, then copy-forward.
  // Returns how many entries were copied forward.
  virtual Result<uint64_t> RunMaintenance() = 0;
  virtual LocalBackendStats LocalStats() const = 0;
};

// Opens (and recovers) the logs under context.data_dir/{log,dlq}. A corrupt log
// or envelope fails here with kCorruption; the namespace is then not served,
// the others are.
Result<std::unique_ptr<Backend>> OpenLocalBackend(const BackendContext& context, const config::NamespaceConfig& config);
Result<std::unique_ptr<LocalBackend>> OpenLocalBackend(const BackendContext& context,
                                                       const config::NamespaceConfig& config,
                                                       const LocalBackendOptions& options);

// The module: settings `backend.local` (local_config.h), OpenLocalBackend, and
// its traits (reads see every entry). Registered in src/modules/.
BackendModule Module();

}  // namespace wal::queue::local
