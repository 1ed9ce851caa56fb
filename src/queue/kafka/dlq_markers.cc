#include "queue/kafka/dlq_markers.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <utility>

namespace wal::queue::kafka {
namespace {

// Kafka topic names: letters, digits, '.', '_' and '-'.
bool IsTopicName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

// "<topic> <id>", the id decimal.
bool ParseLine(std::string_view line, std::string_view* topic, uint64_t* id) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || !IsTopicName(line.substr(0, space)) || space + 1 == line.size()) return false;
  const std::string_view digits = line.substr(space + 1);
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), *id);
  if (error != std::errc() || end != digits.data() + digits.size()) return false;
  *topic = line.substr(0, space);
  return true;
}

}  // namespace

DlqRemovalMarkers::DlqRemovalMarkers(FileSystem* file_system, std::string directory, std::string topic)
    : file_system_(file_system),
      directory_(std::move(directory)),
      topic_(std::move(topic)),
      path_(directory_.empty() ? std::string() : JoinPath(directory_, kFileName)) {}

Status DlqRemovalMarkers::Load() {
  if (path_.empty()) return Status::Ok();
  Result<std::string> contents = file_system_->ReadFile(path_);
  if (!contents.ok()) {
    if (contents.status().code() == StatusCode::kNotFound) return Status::Ok();
    return contents.status().WithContext("kafka DLQ removal markers");
  }
  const std::string_view text = *contents;
  std::set<uint64_t> removed;
  size_t start = 0;  // where the lines to keep end
  for (size_t number = 1; start < text.size(); ++number) {
    const size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos) break;  // torn: no newline
    const std::string_view line = text.substr(start, newline - start);
    std::string_view topic;
    uint64_t id = 0;
    if (!line.empty() && !ParseLine(line, &topic, &id)) {
      // Each line is synced before the next is written, so only the last one
      // can have been hit by a power cut (lost sectors read as zeros).
      if (newline + 1 == text.size()) break;
      return Corruption(path_ + " line " + std::to_string(number) + ": expected '<dlq topic> <id>', found '" +
                        std::string(line) + "'; fix or delete the line (a deleted line lists its id again)");
    }
    start = newline + 1;
    if (!line.empty() && topic == topic_) removed.insert(id);
  }
  std::lock_guard lock(mutex_);
  if (start < text.size()) {
    // A torn last line: its MarkRemoved never returned OK. Cut it off now so the
    // next line starts on a line of its own.
    WAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, file_system_->OpenAppendable(path_));
    Status cut = file->Truncate(start);
    if (cut.ok()) cut = file->Sync();
    (void)file->Close();  // synced (or failed) above; closing adds nothing
    if (!cut.ok()) return cut.WithContext("cutting the torn last line of " + path_);
  }
  removed_ = std::move(removed);
  pending_cut_.reset();
  return Status::Ok();
}

Status DlqRemovalMarkers::MarkRemoved(uint64_t id) {
  std::lock_guard lock(mutex_);
  if (removed_.count(id)) return Status::Ok();
  if (!path_.empty()) {
    Status written = AppendLocked(topic_ + " " + std::to_string(id) + "\n");
    if (!written.ok()) {
      return written.WithContext("kafka DLQ removal marker of id " + std::to_string(id) + " not recorded");
    }
  }
  removed_.insert(id);
  return Status::Ok();
}

bool DlqRemovalMarkers::Contains(uint64_t id) const {
  std::lock_guard lock(mutex_);
  return removed_.count(id) != 0;
}

size_t DlqRemovalMarkers::size() const {
  std::lock_guard lock(mutex_);
  return removed_.size();
}

Status DlqRemovalMarkers::AppendLocked(const std::string& line) {
  WAL_RETURN_IF_ERROR(file_system_->CreateDirectories(directory_));
  WAL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, file_system_->OpenAppendable(path_));
  if (pending_cut_) {
    WAL_RETURN_IF_ERROR(file->Truncate(*pending_cut_).WithContext("cutting off an earlier failed write of " + path_));
    pending_cut_.reset();
  }
  const uint64_t before = file->Size();
  Status status = file->Append(line);
  if (status.ok()) status = file->Sync();
  // The file's name is only durable once its directory is synced. Once per
  // process: an earlier failed attempt (or process) may have created the file
  // without syncing its directory.
  if (status.ok() && !directory_synced_) {
    status = file_system_->SyncDirectory(directory_);
    if (status.ok()) directory_synced_ = true;
  }
  if (!status.ok()) {
    RollBackLocked(*file, before);
    (void)file->Close();  // the write already failed; that is what is reported
    return status;
  }
  (void)file->Close();  // the line is synced; a failed close cannot undo that
  return Status::Ok();
}

void DlqRemovalMarkers::RollBackLocked(WritableFile& file, uint64_t size) {
  if (!file.Truncate(size).ok()) pending_cut_ = size;
}

}  // namespace wal::queue::kafka
