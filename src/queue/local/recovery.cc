#include "queue/local/local_backend_impl.h"

#include <spdlog/spdlog.h>

#include <future>

#include "queue/local/envelope.h"

// Recovery: the open-time scan that rebuilds the in-memory index from the two
// logs. Only the logs and their checkpoints are trusted; the rules are in
// docs/log-format.md ("Queue envelope").

namespace wal::queue::local {
namespace {

using std::chrono::milliseconds;

// Scans `log` from `from` up to `until` (exclusive), decoding every envelope.
template <typename Fn>
Status ScanLogUntil(log::Log* log, uint64_t from, uint64_t until, Fn&& fn) {
  uint64_t next = from;
  for (;;) {
    WAL_ASSIGN_OR_RETURN(std::vector<log::LogEntry> entries, log->Read(next, kScanBatchEntries, kScanBatchBytes));
    if (entries.empty()) return Status::Ok();
    for (const log::LogEntry& entry : entries) {
      if (entry.id >= until) return Status::Ok();
      Envelope envelope;
      WAL_RETURN_IF_ERROR(DecodeEnvelope(entry.id, entry.payload, &envelope));
      fn(entry.id, envelope);
    }
    next = entries.back().id + 1;
  }
}

// Scans `log` from `from` to its end.
template <typename Fn>
Status ScanLog(log::Log* log, uint64_t from, Fn&& fn) {
  return ScanLogUntil(log, from, UINT64_MAX, std::forward<Fn>(fn));
}

}  // namespace

uint64_t LocalBackendImpl::ScanStart(const log::LogStats& stats, std::string_view which) {
  if (stats.consumed_id <= stats.next_id) return stats.consumed_id;
  // Ids at or past the end were never written, so they cannot have been
  // consumed: the end moved back under the checkpoint (a lost tail, a restored
  // backup). Trusting it would count every new entry below it as consumed, and
  // it would never be delivered. The checkpoint is only a shortcut, though:
  // every entry's retirement is itself in the log (a RETIRE, or a replacement
  // that supersedes it) and follows the entry, so scanning every stored record
  // from the first one rebuilds exactly what is still pending. Nothing is
  // skipped; entries retired in segments already deleted are not stored any
  // more, so nothing comes back either.
  ReportProblemLocked(std::string(which) + " consumer checkpoint " + std::to_string(stats.consumed_id) +
                      " is past the log end " + std::to_string(stats.next_id) +
                      "; ignored it and rescanned every stored record from id " + std::to_string(stats.first_id) +
                      " (consumed segments are not deleted until the log end passes the checkpoint)");
  return stats.first_id;
}

Status LocalBackendImpl::Recover() {
  const auto started = std::chrono::steady_clock::now();

  // The DLQ first: its source ids tell which main entries were dead-lettered
  // by a process that died before retiring them.
  std::vector<uint64_t> dead_lettered_sources;
  const log::LogStats dlq_stats = dlq_log_->Stats();
  const log::LogStats main_stats = main_log_->Stats();
  // The log ignores a checkpoint below the one it holds, so these stay as read.
  main_checkpointed_ = main_stats.consumed_id;
  dlq_checkpointed_ = dlq_stats.consumed_id;
  const uint64_t dlq_start = ScanStart(dlq_stats, "dead-letter log");
  const uint64_t main_start = ScanStart(main_stats, "log");
  dlq_window_.Reset(dlq_start);
  Status scanned = ScanLog(dlq_log_.get(), dlq_start, [&](uint64_t id, const Envelope& envelope) {
    dlq_window_.Extend(id + 1);
    if (envelope.kind == EnvelopeKind::kEntry) {
      dlq_window_.SetPending(id);
      ++dlq_live_;
      if (envelope.source) dead_lettered_sources.push_back(*envelope.source);
    } else {
      for (uint32_t i = 0; i < envelope.retired_count; ++i) RetireDlqLocked(envelope.RetiredId(i));
    }
  });
  if (!scanned.ok()) return scanned.WithContext("dead-letter log");
  dlq_window_.Extend(dlq_log_->Stats().next_id);
  dlq_window_.Advance();

  // How entries ended is kept for every stored record, so the consumed part
  // before the checkpoint (at most about a segment: the log deletes segments
  // wholly below it) is read for its outcomes alone. Below the window's start
  // RetireLocked changes no pending state and only records the outcome, so
  // both scans retire through it.
  using Outcome = RetiredOutcomes::Outcome;
  const uint64_t outcomes_start = std::min(main_stats.first_id, main_start);
  outcomes_.Reset(outcomes_start);
  main_window_.Reset(main_start);
  // What a record retires: the entry a replacement supersedes (it is durable,
  // so that entry is done even if the process died right after), or a
  // RETIRE's ids, each as it ended (not recorded by older binaries).
  auto retire_what_it_names = [&](const Envelope& envelope) {
    if (envelope.kind == EnvelopeKind::kEntry) {
      if (envelope.supersedes) RetireLocked(*envelope.supersedes, Outcome::kSuperseded);
      return;
    }
    for (uint32_t i = 0; i < envelope.retired_count; ++i) {
      const Outcome outcome = !envelope.outcomes                 ? Outcome::kNotRecorded
                              : i < envelope.delivered_count ? Outcome::kDelivered
                                                             : Outcome::kDeadLettered;
      RetireLocked(envelope.RetiredId(i), outcome);
    }
  };
  if (outcomes_start < main_start) {
    Status read = ScanLogUntil(main_log_.get(), outcomes_start, main_start, [&](uint64_t id, const Envelope& envelope) {
      outcomes_.Extend(id + 1);
      retire_what_it_names(envelope);
    });
    if (!read.ok()) return read;
  }

  std::vector<HeapItem> items;
  auto compact = [&] {
    std::erase_if(items, [&](const HeapItem& item) { return !main_window_.IsPending(item.id); });
  };
  scanned = ScanLog(main_log_.get(), main_start, [&](uint64_t id, const Envelope& envelope) {
    main_window_.Extend(id + 1);
    outcomes_.Extend(id + 1);
    if (envelope.kind == EnvelopeKind::kEntry) {
      main_window_.SetPending(id);
      ++pending_;
      items.push_back({envelope.due_ms, id});
    }
    retire_what_it_names(envelope);
    if (envelope.kind == EnvelopeKind::kEntry && items.size() > 2 * pending_ + 65536) compact();
  });
  if (!scanned.ok()) return scanned;
  main_window_.Extend(main_log_->Stats().next_id);
  outcomes_.Extend(main_log_->Stats().next_id);
  compact();
  items.shrink_to_fit();
  heap_ = std::move(items);
  std::make_heap(heap_.begin(), heap_.end(), HeapAfter{});
  main_window_.Advance();

  // A crash between the DLQ append and the main RETIRE leaves the original
  // pending; it is already in the DLQ, so retire it now instead of delivering
  // (and dead-lettering) it again.
  std::vector<uint64_t> orphans;
  for (uint64_t source : dead_lettered_sources) {
    if (main_window_.IsPending(source)) orphans.push_back(source);
  }
  std::sort(orphans.begin(), orphans.end());
  orphans.erase(std::unique(orphans.begin(), orphans.end()), orphans.end());
  if (!orphans.empty()) {
    std::promise<log::AppendResult> done;
    auto future = done.get_future();
    AppendControl(*main_log_, EncodeRetireWithOutcomes({}, orphans), [&](const log::AppendResult& result) {
      {
        std::lock_guard lock(mutex_);
        NoteMainAppendLocked(result, std::nullopt);
        if (result.durability == Durability::kTrue) {
          for (uint64_t id : orphans) RetireLocked(id, Outcome::kDeadLettered);
          main_window_.Advance();
        }
      }
      done.set_value(result);
    });
    log::AppendResult result = future.get();
    if (result.durability != Durability::kTrue) {
      return FailureStatus(result, "retiring entries that were already dead-lettered");
    }
    spdlog::warn("namespace {}: {} entries were dead-lettered before a crash but not retired; retired them now",
                 name_, orphans.size());
  }

  local_stats_.recovered_pending = pending_;
  local_stats_.recovery_millis = static_cast<uint64_t>(
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started).count());
  return Status::Ok();
}

}  // namespace wal::queue::local
