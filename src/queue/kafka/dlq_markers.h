// DlqRemovalMarkers: which records of a Kafka dead-letter topic were redriven
// or purged. Kafka cannot delete one record, so the backend remembers removed
// DLQ ids in a file of the namespace's data directory, one line per id:
//
//   <dlq topic> <id>\n
//
// Lines of other topics (the namespace's DLQ topic was renamed) are kept and
// ignored. See docs/kafka.md ("Dead letters").
//
// Durability: MarkRemoved returns OK only once the line is fsynced and the
// directory has been fsynced since the file was opened by this process (so the
// file's name is durable too); only then does the id count as removed. A failed write is reported and the id stays listed: the partial
// line is cut off again (or, if that fails too, before the next line is
// written), so a later line never joins a fragment.
//
// Recovery: Load trusts complete lines only. A last line without its newline,
// or a last line that does not parse, is a write that never returned OK (a
// crash, a failed write, sectors lost in a power cut): it is dropped and cut
// off, never read as the shorter id it spells. Each line is synced before the
// next is written, so any other line that is not "<topic> <id>" is Corruption
// naming the line; nothing is guessed.
//
// Threading: every method is thread-safe; writes are serialised.
// Ownership: `file_system` is borrowed and must outlive this object.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/file_system.h"
#include "common/status.h"

namespace wal::queue::kafka {

class DlqRemovalMarkers {
 public:
  // The marker file's name inside the namespace's data directory.
  static constexpr const char* kFileName = "kafka-dlq-removed";

  // Markers of `topic` in `directory`/kFileName. An empty `directory` keeps the
  // markers in memory only (nothing survives the process).
  DlqRemovalMarkers(FileSystem* file_system, std::string directory, std::string topic);
  DlqRemovalMarkers(const DlqRemovalMarkers&) = delete;
  DlqRemovalMarkers& operator=(const DlqRemovalMarkers&) = delete;

  // Reads the file (absent: no markers). Fails when it cannot be read, holds a
  // malformed line, or a torn last line cannot be cut off.
  [[nodiscard]] Status Load();

  // Records `id` as removed (OK at once if it already is). On failure the id is
  // not removed, in memory or on disk.
  [[nodiscard]] Status MarkRemoved(uint64_t id);

  bool Contains(uint64_t id) const;
  size_t size() const;
  // Empty when the markers are in memory only.
  const std::string& path() const { return path_; }

 private:
  Status AppendLocked(const std::string& line);
  // Cuts `file` back to `size` after a failed write; remembers the cut when it
  // fails so the next write makes it first.
  void RollBackLocked(WritableFile& file, uint64_t size);

  FileSystem* const file_system_;
  const std::string directory_;
  const std::string topic_;
  const std::string path_;

  mutable std::mutex mutex_;
  std::set<uint64_t> removed_;
  // Where the file must be cut before the next line: a failed write left a
  // fragment there that could not be cut off at once.
  std::optional<uint64_t> pending_cut_;
  bool directory_synced_ = false;  // since this object first wrote the file
};

}  // namespace wal::queue::kafka
