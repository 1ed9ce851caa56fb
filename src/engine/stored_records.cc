#include "engine/stored_records.h"

#include <spdlog/spdlog.h>

namespace wal::engine {
namespace {

constexpr size_t kPageEntries = 4096;

}  // namespace

Status ForEachStoredEntry(queue::Backend& backend, StoredStream stream, uint64_t from_id,
                          const std::function<void(const queue::StoredEntry&)>& visit) {
  uint64_t next = from_id;
  for (;;) {
    Result<std::vector<queue::StoredEntry>> page = stream == StoredStream::kLog
                                                       ? backend.Read(next, kPageEntries)
                                                       : backend.ListDeadLetters(next, kPageEntries);
    if (!page.ok()) {
      return page.status().WithContext(std::string(stream == StoredStream::kLog ? "reading the log" : "reading the DLQ") +
                                       " from id " + std::to_string(next));
    }
    if (page->empty()) return Status::Ok();
    for (const queue::StoredEntry& entry : *page) {
      visit(entry);
      next = entry.id + 1;
    }
  }
}

Result<StoredSetMarkers> CollectSetMarkers(queue::Backend& backend) {
  StoredSetMarkers markers;
  uint64_t unparsable = 0;
  auto collect_into = [&](std::vector<v1::LogRecord>* out) {
    return [&markers, &unparsable, out](const queue::StoredEntry& entry) {
      v1::LogRecord record;
      if (!record.ParseFromString(entry.record)) {
        ++unparsable;
        markers.complete = false;
        return;
      }
      if (record.has_set_ref()) out->push_back(std::move(record));
    };
  };
  WAL_RETURN_IF_ERROR(
      ForEachStoredEntry(backend, StoredStream::kLog, backend.Stats().first_id, collect_into(&markers.live)));
  WAL_RETURN_IF_ERROR(ForEachStoredEntry(backend, StoredStream::kDeadLetters, 0, collect_into(&markers.dead)));
  if (unparsable > 0) {
    spdlog::warn("{} stored records cannot be parsed; stored mutation sets without a marker are kept, not dropped",
                 unparsable);
  }
  return markers;
}

}  // namespace wal::engine
