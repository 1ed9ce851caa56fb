// A log::Log decorator for tests: forwards every call to a real log, and fails
// the calls a test arms, the way the real log reports each failure (a refused
// append calls back inline with kFalse and nothing is written).
//
// Knobs are atomic, so a test may flip them while the backend's threads run.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "log/log.h"

namespace wal::queue::local {

class FaultyLog final : public log::Log {
 public:
  explicit FaultyLog(std::unique_ptr<log::Log> base) : base_(std::move(base)) {}

  // While set, appends whose payload starts with this byte ('R': RETIRE
  // envelopes, 'E': entries; 0: every append) are refused with kFalse.
  std::atomic<bool> fail_appends{false};
  std::atomic<char> fail_appends_of_kind{0};
  // While set, CommitConsumed fails with kIOError and changes nothing.
  std::atomic<bool> fail_commit_consumed{false};
  std::atomic<int> refused_appends{0};

  using log::Log::Append;
  void Append(std::string payload, log::AppendCallback callback, log::AppendClass append_class) override {
    const char kind = fail_appends_of_kind.load();
    if (fail_appends.load() && (kind == 0 || (!payload.empty() && payload[0] == kind))) {
      refused_appends.fetch_add(1);
      callback(log::AppendResult{Durability::kFalse, 0, NoSpace("injected: append refused")});
      return;
    }
    base_->Append(std::move(payload), std::move(callback), append_class);
  }
  Result<std::vector<log::LogEntry>> Read(uint64_t from_id, size_t max_entries, size_t max_bytes) override {
    return base_->Read(from_id, max_entries, max_bytes);
  }
  Status CommitConsumed(uint64_t consumed_id) override {
    if (fail_commit_consumed.load()) return IOError("injected: checkpoint failed");
    return base_->CommitConsumed(consumed_id);
  }
  log::LogStats Stats() const override { return base_->Stats(); }
  std::vector<uint64_t> SegmentFirstIds() const override { return base_->SegmentFirstIds(); }
  Status Close() override { return base_->Close(); }

 private:
  std::unique_ptr<log::Log> base_;
};

}  // namespace wal::queue::local
