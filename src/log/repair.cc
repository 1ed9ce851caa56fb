#include "log/repair.h"

#include <algorithm>
#include <optional>

#include "log/directory_scan.h"
#include "log/record_format.h"
#include "log/segment.h"

namespace wal::log {
namespace {

constexpr std::string_view kRepairSuffix = ".repair";

struct SalvagedRecord {
  uint64_t offset = 0;
  ParsedRecord record;
};
using RecordRun = std::vector<SalvagedRecord>;

struct DamagedRange {
  uint64_t offset = 0;
  uint64_t bytes = 0;
  std::string reason;
};

// One damaged segment read record by record: runs of intact records with
// consecutive ids and the byte ranges between them, in file order.
struct Salvage {
  std::optional<SegmentHeader> header;  // nullopt: the header itself is damaged
  std::vector<RecordRun> runs;
  std::vector<DamagedRange> damaged;
  // File order of the pieces: true = next run, false = next damaged range.
  std::vector<bool> order;
};

// The version whose first plausible record comes first (for a segment whose
// header cannot tell).
uint32_t GuessVersion(std::string_view contents, uint64_t min_id) {
  uint64_t best_offset = UINT64_MAX;
  uint32_t best = kFormatVersion;
  for (uint32_t version : {kFormatVersion, kFormatVersionV1}) {
    ForEachPlausibleRecord(contents, 0, version, min_id, [&](uint64_t offset, const ParsedRecord&) {
      if (offset < best_offset) {
        best_offset = offset;
        best = version;
      }
      return false;
    });
  }
  return best;
}

// Keeps every intact record with an id in [min_id, upper_id) whose id is above
// the previous kept one; everything between them is damage.
Salvage SalvageSegment(std::string_view contents, uint64_t min_id, uint64_t upper_id) {
  Salvage salvage;
  Result<SegmentHeader> header = DecodeSegmentHeader(contents);
  if (header.ok()) salvage.header = header.value();
  const uint32_t version = header.ok() ? header->version : GuessVersion(contents, min_id);
  uint64_t position = header.ok() ? header->size : 0;
  uint64_t next_min = min_id;
  RecordRun run;
  auto close_run = [&] {
    if (run.empty()) return;
    salvage.runs.push_back(std::move(run));
    salvage.order.push_back(true);
    run.clear();
  };
  while (position < contents.size()) {
    ParsedRecord record;
    RecordParse parse = ParseRecord(contents.substr(position), version, &record);
    if (parse == RecordParse::kOk && record.id >= next_min && record.id < upper_id) {
      if (!run.empty() && record.id != run.back().record.id + 1) close_run();
      run.push_back({position, record});
      next_min = record.id + 1;
      position += record.encoded_size;
      continue;
    }
    std::string reason = position == 0 ? "segment header is damaged"
                         : parse == RecordParse::kOk
                             ? "record id " + std::to_string(record.id) + " is out of place"
                             : std::string(DescribeRecordParse(parse));
    close_run();
    std::optional<uint64_t> resume;
    ForEachPlausibleRecord(contents.substr(position + 1), position + 1, version, next_min,
                           [&](uint64_t offset, const ParsedRecord& found) {
                             if (found.id >= upper_id) return true;
                             resume = offset;
                             return false;
                           });
    const uint64_t end = resume.value_or(contents.size());
    salvage.damaged.push_back({position, end - position, reason});
    salvage.order.push_back(false);
    position = end;
  }
  close_run();
  return salvage;
}

// Writes a segment (current format, one record per group, so every record is
// committed on its own) under a temporary name, syncs it and renames it into
// place. Replaces a file of the same name atomically.
Status WriteSegment(FileSystem* file_system, const std::string& directory, uint64_t first_id, uint64_t gap_start_id,
                    const std::vector<std::pair<uint64_t, std::string_view>>& records) {
  std::string contents = EncodeSegmentHeader(first_id, gap_start_id);
  for (const auto& [id, payload] : records) AppendRecord(id, 0, 1, payload, &contents);
  const std::string path = JoinPath(directory, SegmentFileName(first_id));
  const std::string temporary = path + std::string(kRepairSuffix);
  WAL_ASSIGN_OR_RETURN(auto file, file_system->OpenAppendable(temporary));
  Status status = file->Truncate(0);
  if (status.ok()) status = file->Append(contents);
  if (status.ok()) status = file->Sync();
  Status closed = file->Close();
  if (status.ok()) status = closed;
  if (status.ok()) status = file_system->Rename(temporary, path);
  if (!status.ok()) {
    (void)file_system->RemoveFile(temporary);
    return status.WithContext("repair writing " + path);
  }
  return file_system->SyncDirectory(directory);
}

// The records of a clean segment in [header, valid_bytes).
Result<std::vector<std::pair<uint64_t, std::string_view>>> CleanRecords(std::string_view contents,
                                                                       const SegmentScan& scan) {
  std::vector<std::pair<uint64_t, std::string_view>> records;
  uint64_t position = scan.header_bytes;
  while (position < scan.valid_bytes) {
    ParsedRecord record;
    if (ParseRecord(contents.substr(position), scan.version, &record) != RecordParse::kOk) {
      return Internal("segment changed while it was being repaired");
    }
    records.emplace_back(record.id, record.payload);
    position += record.encoded_size;
  }
  return records;
}

class Repairer {
 public:
  Repairer(FileSystem* file_system, std::string directory, RepairReport* report)
      : file_system_(file_system), directory_(std::move(directory)), report_(report) {}

  Status Run() {
    WAL_RETURN_IF_ERROR(RemoveLeftovers());
    WAL_RETURN_IF_ERROR(RepairCheckpoint());
    WAL_ASSIGN_OR_RETURN(std::vector<uint64_t> first_ids, ListSegmentFirstIds(file_system_, directory_));
    // Segments named outside the id space sort last; the log never wrote one,
    // so none of their bytes can be an acknowledged entry. They go whole, and
    // the segment before them is repaired as the last one.
    const auto outside = std::upper_bound(first_ids.begin(), first_ids.end(), kMaxEntryId);
    const auto inside = static_cast<size_t>(outside - first_ids.begin());
    for (size_t i = 0; i < inside; ++i) {
      const uint64_t upper = i + 1 < inside ? first_ids[i + 1] : kEntryIdLimit;
      WAL_RETURN_IF_ERROR(RepairSegment(first_ids[i], upper, i + 1 == inside));
    }
    for (size_t i = inside; i < first_ids.size(); ++i) WAL_RETURN_IF_ERROR(DropOutsideIdSpace(first_ids[i]));
    // Only now, with every new file durable, may the files they replace go.
    for (const std::string& name : doomed_) {
      WAL_RETURN_IF_ERROR(file_system_->RemoveFile(JoinPath(directory_, name)));
      report_->removed.push_back(name);
    }
    if (!doomed_.empty()) WAL_RETURN_IF_ERROR(file_system_->SyncDirectory(directory_));
    for (const RepairDrop& drop : report_->dropped) report_->ids_lost += drop.end_lost_id - drop.first_lost_id;
    return Status::Ok();
  }

 private:
  Status RemoveLeftovers() {
    WAL_ASSIGN_OR_RETURN(std::vector<std::string> names, file_system_->ListDirectory(directory_));
    for (const std::string& name : names) {
      if (name.size() > kRepairSuffix.size() && name.ends_with(kRepairSuffix)) {
        WAL_RETURN_IF_ERROR(file_system_->RemoveFile(JoinPath(directory_, name)));
      }
    }
    return Status::Ok();
  }

  Status RepairCheckpoint() {
    const std::string path = JoinPath(directory_, kCheckpointFileName);
    if (!file_system_->Exists(path)) return Status::Ok();
    WAL_ASSIGN_OR_RETURN(std::string contents, file_system_->ReadFile(path));
    Result<uint64_t> consumed = DecodeCheckpoint(contents);
    if (consumed.ok()) return Status::Ok();
    WAL_RETURN_IF_ERROR(file_system_->RemoveFile(path));
    WAL_RETURN_IF_ERROR(file_system_->SyncDirectory(directory_));
    report_->checkpoint_removed = consumed.status().message();
    return Status::Ok();
  }

  Status DropOutsideIdSpace(uint64_t first_id) {
    const std::string name = SegmentFileName(first_id);
    WAL_ASSIGN_OR_RETURN(auto file, file_system_->OpenRandomAccess(JoinPath(directory_, name)));
    WAL_ASSIGN_OR_RETURN(uint64_t bytes, file->Size());
    Drop(name, 0, bytes, 0, 0, "the segment's first id is outside the id space (ids are below 2^63)");
    doomed_.push_back(name);
    return Status::Ok();
  }

  void Drop(std::string segment, uint64_t offset, uint64_t bytes, uint64_t first_lost, uint64_t end_lost,
            std::string reason) {
    if (end_lost < first_lost) end_lost = first_lost;
    report_->dropped.push_back({std::move(segment), offset, bytes, first_lost, end_lost, std::move(reason)});
  }

  Status RepairSegment(uint64_t first_id, uint64_t upper, bool is_last) {
    const std::string name = SegmentFileName(first_id);
    const std::string path = JoinPath(directory_, name);
    Result<SegmentScan> scan = ScanSegment(file_system_, path, first_id, is_last);
    if (!scan.ok() && scan.status().code() != StatusCode::kCorruption) return scan.status();
    WAL_ASSIGN_OR_RETURN(std::string contents, file_system_->ReadFile(path));
    if (scan.ok()) {
      const bool continuous = !kept_end_ || first_id == *kept_end_ || scan->gap_start_id == *kept_end_;
      if (!continuous) {
        // A missing segment (or the lost end of a repaired one): the ids between
        // are gone; this segment must say so in its header.
        if (*accounted_end_ < first_id) Drop("", 0, 0, *accounted_end_, first_id, "no segment holds these ids");
        if (scan->torn_header) {
          WAL_RETURN_IF_ERROR(WriteSegment(file_system_, directory_, first_id, *kept_end_, {}));
        } else {
          WAL_ASSIGN_OR_RETURN(auto records, CleanRecords(contents, *scan));
          WAL_RETURN_IF_ERROR(WriteSegment(file_system_, directory_, first_id, *kept_end_, records));
          if (scan->torn_tail) {
            Drop(name, scan->valid_bytes, scan->file_bytes - scan->valid_bytes, 0, 0,
                 "torn tail of the last segment (never acknowledged)");
          }
        }
        report_->written.push_back(name);
      }
      kept_end_ = scan->end_id;
      accounted_end_ = scan->end_id;
      return Status::Ok();
    }

    // Damaged: keep every intact record, drop the rest.
    const uint64_t min_id = std::max(first_id, kept_end_.value_or(first_id));
    Salvage salvage = SalvageSegment(contents, min_id, upper);
    TrimTornGroup(salvage, is_last);
    // Ids are accounted for (kept, or reported lost) up to here. Ids the header
    // already declares lost (by an earlier repair) are not reported again.
    uint64_t accounted = accounted_end_.value_or(first_id);
    if (salvage.header && kept_end_ && salvage.header->gap_start_id == *kept_end_) {
      accounted = std::max(accounted, first_id);
    }

    size_t next_run = 0;
    size_t next_damage = 0;
    bool replaced_original = false;
    for (bool is_run : salvage.order) {
      if (!is_run) {
        const DamagedRange& damage = salvage.damaged[next_damage++];
        const bool more_runs = next_run < salvage.runs.size();
        // Ids between the last kept record and the next one are gone; after the
        // last run of the last segment nothing vouches for any id (torn tail).
        const uint64_t end_lost = more_runs ? salvage.runs[next_run].front().record.id : (is_last ? accounted : upper);
        Drop(name, damage.offset, damage.bytes, accounted, end_lost, damage.reason);
        accounted = std::max(accounted, end_lost);
        continue;
      }
      const RecordRun& run = salvage.runs[next_run++];
      const uint64_t run_first = run.front().record.id;
      if (run_first > accounted) Drop(name, run.front().offset, 0, accounted, run_first, "ids missing here");
      std::vector<std::pair<uint64_t, std::string_view>> records;
      for (const SalvagedRecord& kept : run) records.emplace_back(kept.record.id, kept.record.payload);
      // The new segment declares the gap from whatever was kept before it.
      WAL_RETURN_IF_ERROR(
          WriteSegment(file_system_, directory_, run_first, kept_end_.value_or(first_id), records));
      report_->written.push_back(SegmentFileName(run_first));
      if (run_first == first_id) replaced_original = true;
      kept_end_ = run.back().record.id + 1;
      accounted = *kept_end_;
    }
    if (!is_last && accounted < upper) {
      Drop(name, contents.size(), 0, accounted, upper, "the segment ends before the next one starts");
      accounted = upper;
    }
    accounted_end_ = accounted;
    if (!kept_end_) kept_end_ = first_id;  // nothing kept yet: later segments are measured from here
    if (!replaced_original) doomed_.push_back(name);
    return Status::Ok();
  }

  // In the last segment, records of a group whose last record is missing were
  // never acknowledged: drop them as recovery would, without counting ids lost.
  static void TrimTornGroup(Salvage& salvage, bool is_last) {
    if (!is_last || salvage.runs.empty()) return;
    // Only damage may follow the last run; the torn group goes right after it.
    size_t run_piece = salvage.order.size();
    while (run_piece > 0 && !salvage.order[run_piece - 1]) --run_piece;
    RecordRun& run = salvage.runs.back();
    const ParsedRecord& last = run.back().record;
    if (last.group_index + 1 == last.group_count) return;
    const uint64_t group_first = last.group_first_id();
    size_t keep = run.size();
    while (keep > 0 && run[keep - 1].record.group_first_id() == group_first) --keep;
    const uint64_t offset = run[keep].offset;
    const uint64_t end = run.back().offset + run.back().record.encoded_size;
    run.resize(keep);
    const size_t damage_index =
        static_cast<size_t>(std::count(salvage.order.begin(), salvage.order.begin() + run_piece, false));
    salvage.damaged.insert(salvage.damaged.begin() + damage_index,
                           {offset, end - offset, "torn tail: the last group is incomplete (never acknowledged)"});
    salvage.order.insert(salvage.order.begin() + run_piece, false);
    if (run.empty()) {
      salvage.runs.pop_back();
      salvage.order.erase(salvage.order.begin() + run_piece - 1);
    }
  }

  FileSystem* const file_system_;
  const std::string directory_;
  RepairReport* const report_;
  std::optional<uint64_t> kept_end_;       // one past the last id kept so far
  std::optional<uint64_t> accounted_end_;  // ids below are kept or reported lost
  std::vector<std::string> doomed_;   // original files to remove once the new ones are durable
};

}  // namespace

std::string RepairReport::Describe() const {
  if (!changed) return "log is healthy: nothing to repair\n";
  std::string text = "damage found: " + damage + "\n";
  if (!checkpoint_removed.empty()) {
    text += "removed the damaged consumer checkpoint (" + checkpoint_removed +
            "): every stored entry counts as not consumed and is delivered again\n";
  }
  for (const RepairDrop& drop : dropped) {
    text += "dropped ";
    text += drop.segment.empty() ? std::string("(no segment)") : drop.segment + " offset " + std::to_string(drop.offset);
    text += ", " + std::to_string(drop.bytes) + " bytes";
    if (drop.end_lost_id > drop.first_lost_id) {
      text += ", record ids " + std::to_string(drop.first_lost_id) + ".." + std::to_string(drop.end_lost_id - 1) +
              " lost (" + std::to_string(drop.end_lost_id - drop.first_lost_id) + ")";
    } else {
      text += ", no record id lost";
    }
    text += ": " + drop.reason + "\n";
  }
  for (const std::string& name : written) text += "wrote " + name + "\n";
  for (const std::string& name : removed) text += "removed " + name + "\n";
  text += "total: " + std::to_string(ids_lost) + " record ids lost\n";
  return text;
}

Result<RecoveryReport> CheckLog(FileSystem* file_system, const std::string& directory) {
  RecoveryReport report;
  Result<DirectoryScan> scanned = ScanLogDirectory(file_system, directory);
  if (!scanned.ok()) {
    if (scanned.status().code() != StatusCode::kCorruption) return scanned.status();
    report.corruption = scanned.status().message();
    return report;
  }
  report.segments = scanned->segments.size();
  if (!scanned->segments.empty()) {
    const SegmentScan& last = scanned->segments.back().scan;
    report.entries = last.end_id - scanned->segments.front().first_id;
    if (last.torn_header) report.truncated_tail_bytes = last.file_bytes;
    if (last.torn_tail) report.truncated_tail_bytes = last.file_bytes - last.valid_bytes;
  }
  return report;
}

Result<RepairReport> RepairLog(FileSystem* file_system, const std::string& directory) {
  // Repairing under a running Log would rewrite segments it is appending to.
  Result<std::unique_ptr<FileLock>> lock = file_system->LockFile(JoinPath(directory, kLockFileName));
  if (!lock.ok()) return lock.status().WithContext("cannot repair the log in " + directory + " while it is open");
  RepairReport report;
  WAL_ASSIGN_OR_RETURN(RecoveryReport before, CheckLog(file_system, directory));
  if (before.corruption.empty()) return report;
  report.changed = true;
  report.damage = before.corruption;
  Repairer repairer(file_system, directory, &report);
  WAL_RETURN_IF_ERROR(repairer.Run());
  WAL_ASSIGN_OR_RETURN(RecoveryReport after, CheckLog(file_system, directory));
  if (!after.corruption.empty()) {
    return Internal("repair of " + directory + " left damage behind: " + after.corruption + "\n" + report.Describe());
  }
  return report;
}

}  // namespace wal::log
