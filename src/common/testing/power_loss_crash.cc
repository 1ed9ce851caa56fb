// PowerLossFileSystem::CrashState: replays the journal up to a crash point and
// draws, from the seed, one of the disk states the model in
// power_loss_file_system.h allows.
#include <algorithm>
#include <random>

#include "common/testing/power_loss_file_system.h"

namespace wal::testing {

using power_loss::Image;
using power_loss::Op;
using power_loss::OpType;

namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// One file's data as the replay sees it at the crash point.
struct FileHistory {
  std::string durable;            // what the last sync (or the starting image) covered
  std::string live;               // what the process saw at the crash
  std::vector<const Op*> pending; // writes and truncates since the last sync, in order
  std::vector<uint64_t> sizes;    // the size before pending[0], then after each pending op
};

// A directory change and what could make it durable.
struct DirectoryChange {
  const Op* op = nullptr;
  std::vector<std::string> parents;  // a SyncDirectory of any of these makes it durable
  bool durable = false;              // such a sync followed it
  bool committed = false;            // some sync followed it (durable when journaled)
};

void WriteAt(std::string* file, uint64_t offset, std::string_view data) {
  if (file->size() < offset + data.size()) file->resize(offset + data.size(), '\0');
  std::copy(data.begin(), data.end(), file->begin() + static_cast<std::ptrdiff_t>(offset));
}

void Apply(const Op& op, std::string* file) {
  if (op.type == OpType::kWrite) WriteAt(file, op.offset, op.data);
  if (op.type == OpType::kTruncate) file->resize(op.size, '\0');
}

class Builder {
 public:
  Builder(uint64_t seed, uint64_t crash_point, CrashOptions options, CrashReport* report)
      : random_(SplitMix(seed ^ SplitMix(crash_point))), options_(options), report_(report) {}

  void Replay(const Image& base, const std::vector<Op>& journal, uint64_t crash_point);
  Image Build(const Image& base);

 private:
  bool Coin() { return (random_() & 1) != 0; }
  uint64_t Uniform(uint64_t bound_inclusive) { return random_() % (bound_inclusive + 1); }
  std::vector<bool> ChooseDirectoryChanges();
  std::string CrashContents(const std::string& path, const FileHistory& history);
  std::string TornPrefix(const FileHistory& history, std::string* note);
  std::string SectorSubset(const FileHistory& history, std::string* note);

  std::mt19937_64 random_;
  const CrashOptions options_;
  CrashReport* const report_;
  std::map<uint64_t, FileHistory> files_;  // by inode
  std::vector<DirectoryChange> changes_;
  size_t committed_changes_ = 0;  // changes_[0, this) were followed by some sync
};

void Builder::Replay(const Image& base, const std::vector<Op>& journal, uint64_t crash_point) {
  for (const auto& [inode, contents] : base.contents) {
    FileHistory& history = files_[inode];
    history.durable = history.live = contents;
    history.sizes = {contents.size()};
  }
  for (uint64_t index = 0; index < crash_point; ++index) {
    const Op& op = journal[index];
    switch (op.type) {
      case OpType::kCreate:
        files_[op.inode] = FileHistory{"", "", {}, {0}};
        changes_.push_back({&op, {power_loss::ParentOf(op.path)}});
        break;
      case OpType::kWrite:
      case OpType::kTruncate: {
        FileHistory& history = files_[op.inode];
        Apply(op, &history.live);
        history.pending.push_back(&op);
        history.sizes.push_back(history.live.size());
        break;
      }
      case OpType::kPreallocate:
        break;
      case OpType::kSync: {
        FileHistory& history = files_[op.inode];
        history.durable = history.live;
        history.pending.clear();
        history.sizes = {history.live.size()};
        committed_changes_ = changes_.size();
        break;
      }
      case OpType::kRename:
        changes_.push_back({&op, {power_loss::ParentOf(op.path), power_loss::ParentOf(op.path2)}});
        break;
      case OpType::kUnlink:
      case OpType::kMkdir:
      case OpType::kRmdir:
        changes_.push_back({&op, {power_loss::ParentOf(op.path)}});
        break;
      case OpType::kSyncDir:
        for (DirectoryChange& change : changes_) {
          if (std::find(change.parents.begin(), change.parents.end(), op.path) != change.parents.end()) {
            change.durable = true;
          }
        }
        committed_changes_ = changes_.size();
        break;
    }
  }
  for (size_t i = 0; i < committed_changes_; ++i) changes_[i].committed = true;
}

std::vector<bool> Builder::ChooseDirectoryChanges() {
  DirectoryLoss mode = options_.directories;
  if (mode == DirectoryLoss::kRandom) mode = Uniform(4) < 3 ? DirectoryLoss::kJournaled : DirectoryLoss::kUnordered;
  report_->directory_mode = mode == DirectoryLoss::kKeepAll    ? "keep-all"
                            : mode == DirectoryLoss::kJournaled ? "journaled"
                                                                : "unordered";

  std::vector<bool> keep(changes_.size(), true);
  std::vector<size_t> unsynced;
  for (size_t i = 0; i < changes_.size(); ++i) {
    if (!changes_[i].durable) unsynced.push_back(i);
  }
  report_->unsynced_directory_ops = unsynced.size();
  if (mode == DirectoryLoss::kJournaled) {
    std::vector<size_t> open;
    for (size_t i : unsynced) {
      if (!changes_[i].committed) open.push_back(i);
    }
    const uint64_t survivors = Uniform(open.size());
    for (size_t j = survivors; j < open.size(); ++j) keep[open[j]] = false;
  } else if (mode == DirectoryLoss::kUnordered) {
    for (size_t i : unsynced) keep[i] = Coin();
  }
  bool lost_before = false;
  for (size_t i : unsynced) {
    if (!keep[i]) {
      lost_before = true;
      ++report_->lost_directory_ops;
      report_->notes.push_back("lost: " + power_loss::Describe(*changes_[i].op));
      if (changes_[i].op->type == OpType::kMkdir) report_->lost_directory = true;
    } else if (lost_before) {
      report_->reordered_directory_ops = true;
    }
  }
  return keep;
}

std::string Builder::TornPrefix(const FileHistory& history, std::string* note) {
  uint64_t total = 0;
  for (const Op* op : history.pending) total += op->data.size();
  uint64_t budget = Uniform(total);
  const uint64_t kept_bytes = budget;
  std::string contents = history.durable;
  for (const Op* op : history.pending) {
    if (op->type == OpType::kTruncate) {
      Apply(*op, &contents);
      continue;
    }
    if (budget >= op->data.size()) {
      Apply(*op, &contents);
      budget -= op->data.size();
      continue;
    }
    if (budget > 0) WriteAt(&contents, op->offset, std::string_view(op->data).substr(0, budget));
    break;
  }
  *note = "torn prefix: kept " + std::to_string(kept_bytes) + " of " + std::to_string(total) + " unsynced bytes";
  return contents;
}

std::string Builder::SectorSubset(const FileHistory& history, std::string* note) {
  const uint64_t sector = Coin() ? 512 : 4096;
  std::set<uint64_t> dirty;
  auto mark = [&](uint64_t from, uint64_t to) {
    for (uint64_t s = from / sector; s * sector < to; ++s) dirty.insert(s);
  };
  for (size_t i = 0; i < history.pending.size(); ++i) {
    const Op& op = *history.pending[i];
    if (op.type == OpType::kWrite) mark(op.offset, op.offset + op.data.size());
    if (op.type == OpType::kTruncate) mark(std::min(history.sizes[i], op.size), std::max(history.sizes[i], op.size));
  }
  std::set<uint64_t> persisted;
  for (uint64_t s : dirty) {
    if (Coin()) persisted.insert(s);
  }
  const uint64_t size = Coin() ? *std::max_element(history.sizes.begin(), history.sizes.end())
                               : history.sizes[Uniform(history.sizes.size() - 1)];
  // A sector that did not reach the disk reads as it did at the last sync
  // (zeros past the synced size); every other byte reads as the process saw it.
  std::string contents(size, '\0');
  for (uint64_t start = 0; start < size; start += sector) {
    const uint64_t s = start / sector;
    const bool reached_disk = dirty.count(s) == 0 || persisted.count(s) != 0;
    for (uint64_t position = start; position < std::min(size, start + sector); ++position) {
      const std::string& source = reached_disk && position < history.live.size() ? history.live : history.durable;
      if (position < source.size()) contents[position] = source[position];
    }
  }
  bool hole = false;
  for (uint64_t s : dirty) {
    if (s * sector >= size) break;
    if (persisted.count(s) != 0) continue;
    auto later = persisted.upper_bound(s);
    if (later != persisted.end() && *later * sector < size) hole = true;
  }
  if (hole) report_->zero_hole = true;
  *note = "sector subset (" + std::to_string(sector) + " B): " + std::to_string(persisted.size()) + " of " +
          std::to_string(dirty.size()) + " dirty sectors reached the disk, size " + std::to_string(size) +
          (hole ? ", with a hole before surviving data" : "");
  return contents;
}

std::string Builder::CrashContents(const std::string& path, const FileHistory& history) {
  if (history.pending.empty()) return history.durable;
  ++report_->unsynced_files;
  DataLoss mode = options_.data;
  if (mode == DataLoss::kRandom) {
    const uint64_t roll = Uniform(99);
    mode = roll < 15 ? DataLoss::kKeepAll : roll < 35 ? DataLoss::kDropAll : roll < 70 ? DataLoss::kTornPrefix
                                                                                        : DataLoss::kSectorSubset;
  }
  std::string note;
  std::string contents;
  switch (mode) {
    case DataLoss::kRandom:
    case DataLoss::kKeepAll:
      contents = history.live;
      note = "kept every unsynced byte";
      break;
    case DataLoss::kDropAll:
      contents = history.durable;
      note = "dropped every unsynced byte";
      break;
    case DataLoss::kTornPrefix:
      contents = TornPrefix(history, &note);
      break;
    case DataLoss::kSectorSubset:
      contents = SectorSubset(history, &note);
      break;
  }
  if (contents != history.live) report_->lost_data = true;
  report_->notes.push_back(path + ": " + note + " (synced " + std::to_string(history.durable.size()) + " B, live " +
                           std::to_string(history.live.size()) + " B, crash " + std::to_string(contents.size()) + " B)");
  return contents;
}

Image Builder::Build(const Image& base) {
  const std::vector<bool> keep = ChooseDirectoryChanges();
  Image image;
  image.directories = base.directories;
  image.files = base.files;
  auto directory_exists = [&](const std::string& path) {
    return path.empty() || path == "/" || image.directories.count(path) != 0;
  };
  for (size_t i = 0; i < changes_.size(); ++i) {
    if (!keep[i]) continue;
    const Op& op = *changes_[i].op;
    switch (op.type) {
      case OpType::kCreate:
        if (directory_exists(power_loss::ParentOf(op.path))) image.files[op.path] = op.inode;
        break;
      case OpType::kUnlink:
        image.files.erase(op.path);
        break;
      case OpType::kRename: {
        auto from = image.files.find(op.path);
        if (from == image.files.end() || !directory_exists(power_loss::ParentOf(op.path2))) break;
        const uint64_t inode = from->second;
        image.files.erase(from);
        image.files[op.path2] = inode;
        break;
      }
      case OpType::kMkdir:
        if (directory_exists(power_loss::ParentOf(op.path))) image.directories.insert(op.path);
        break;
      case OpType::kRmdir:
        image.directories.erase(op.path);
        break;
      default:
        break;
    }
  }
  // What a lost directory held is lost with it. Sorted order visits parents first.
  for (auto it = image.directories.begin(); it != image.directories.end();) {
    it = directory_exists(power_loss::ParentOf(*it)) ? std::next(it) : image.directories.erase(it);
  }
  for (auto it = image.files.begin(); it != image.files.end();) {
    it = directory_exists(power_loss::ParentOf(it->first)) ? std::next(it) : image.files.erase(it);
  }
  // Contents in inode order, so the draws do not depend on path names.
  std::map<uint64_t, std::string> first_path;
  for (const auto& [path, inode] : image.files) first_path.emplace(inode, path);
  for (const auto& [inode, path] : first_path) {
    auto history = files_.find(inode);
    image.contents[inode] = history == files_.end() ? std::string() : CrashContents(path, history->second);
  }
  return image;
}

}  // namespace

std::string CrashReport::Summary() const {
  std::string text = "crash seed " + std::to_string(seed) + ", crash point " + std::to_string(crash_point) +
                     ": directories " + directory_mode + ", " + std::to_string(unsynced_files) + " unsynced files, " +
                     std::to_string(unsynced_directory_ops) + " unsynced directory changes";
  if (zero_hole) text += ", zero hole";
  if (lost_directory) text += ", lost a directory";
  if (reordered_directory_ops) text += ", reordered directory changes";
  for (const std::string& note : notes) text += "\n    " + note;
  return text;
}

std::unique_ptr<PowerLossFileSystem> PowerLossFileSystem::CrashState(uint64_t crash_point, uint64_t seed,
                                                                     const CrashOptions& options,
                                                                     CrashReport* report) const {
  CrashReport local_report;
  if (report == nullptr) report = &local_report;
  *report = CrashReport{};
  Image image;
  {
    std::lock_guard lock(mutex_);
    crash_point = std::min<uint64_t>(crash_point, journal_.size());
    report->crash_point = crash_point;
    report->seed = seed;
    Builder builder(seed, crash_point, options, report);
    builder.Replay(base_, journal_, crash_point);
    image = builder.Build(base_);
  }
  return std::make_unique<PowerLossFileSystem>(std::move(image));
}

}  // namespace wal::testing
