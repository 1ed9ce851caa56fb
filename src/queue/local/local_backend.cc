#include "queue/local/local_backend.h"

#include <spdlog/spdlog.h>

namespace wal::queue::local {
namespace {

class LocalBackend final : public Backend {
 public:
  explicit LocalBackend(std::unique_ptr<log::Log> log) : log_(std::move(log)) {}
  ~LocalBackend() override { (void)log_->Close(); }

  void Append(std::string record, AppendCallback callback) override {
    log_->Append(std::move(record), [callback = std::move(callback)](const log::AppendResult& result) {
      callback(AppendOutcome{result.durability, result.id, result.status});
    });
  }

  Result<std::vector<StoredEntry>> Read(uint64_t from_id, size_t limit) override {
    constexpr size_t kMaxReadBytes = 16ull << 20;
    WAL_ASSIGN_OR_RETURN(auto entries, log_->Read(from_id, limit, kMaxReadBytes));
    std::vector<StoredEntry> stored;
    stored.reserve(entries.size());
    for (auto& entry : entries) stored.push_back(StoredEntry{entry.id, std::move(entry.payload)});
    return stored;
  }

  BackendStats Stats() const override {
    log::LogStats stats = log_->Stats();
    return BackendStats{stats.first_id, stats.next_id, stats.consumed_id, stats.segments, stats.bytes, !stats.poisoned};
  }

  Status Close() override { return log_->Close(); }

 private:
  std::unique_ptr<log::Log> log_;
};

}  // namespace

Result<std::unique_ptr<Backend>> OpenLocalBackend(const BackendContext& context, const config::NamespaceConfig& config) {
  log::LogOptions options;
  options.directory = JoinPath(context.data_dir, "log");
  options.segment_bytes = config.backend.local.segment_bytes;
  options.preallocate = config.backend.local.preallocate;
  // A record holds the payload plus its envelope; leave room for the envelope.
  options.max_record_bytes = config.max_payload_bytes + (64u << 10);
  WAL_RETURN_IF_ERROR(context.file_system->CreateDirectories(options.directory));
  log::RecoveryReport report;
  auto opened = log::Log::Open(context.file_system, options, &report);
  if (!opened.ok()) return opened.status().WithContext("namespace " + config.name);
  if (report.truncated_tail_bytes > 0) {
    spdlog::warn("namespace {}: recovery cut a torn tail of {} bytes (unacknowledged writes)", config.name,
                 report.truncated_tail_bytes);
  }
  spdlog::info("namespace {}: embedded log open, {} segments, {} entries", config.name, report.segments,
               report.entries);
  return std::unique_ptr<Backend>(std::make_unique<LocalBackend>(std::move(opened).value()));
}

}  // namespace wal::queue::local
