// Recovery over arbitrary segment bytes: a log directory (in memory) holding
// up to three segment files and an optional consumer checkpoint, all taken from
// the input, is opened. Open may refuse it (CORRUPTION naming the damage) but
// must never crash, hang or read out of bounds, and the offline check
// (log/repair.h CheckLog) must agree with it. A log that opens must read back
// consistently and take an append; with option bit 4 it must also reopen with
// everything it held plus that append. (Reopening on every input would double
// the cost of the slowest part: each open starts a commit thread.) With option
// bit 5, a log that Open refuses as CORRUPTION is repaired (RepairLog); a
// repair that succeeds must leave a log that opens, and a second repair must
// find nothing to do.
//
// Input: byte 0 = options (bits 0-1: extra segments, bit 2: a checkpoint,
// bit 3: a small max_record_bytes, bit 4: reopen, bit 5: repair); then, for each extra segment and the
// checkpoint, a little-endian u32 length and that many bytes; the rest is the
// last segment. A segment's file name comes from bytes 16..24 of its contents
// (its header's first id), so the fuzzer controls names and headers together:
// first ids outside the id space (2^63 and up) must be refused as CORRUPTION,
// never wrap the log end (fuzz/regressions/log_recovery_fuzzer/id-overflow-*).
#include <cstddef>
#include <cstdint>
#include <future>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "log/log.h"
#include "log/record_format.h"
#include "log/repair.h"
#include "memory_file_system.h"

namespace {

using namespace wal;

constexpr const char* kDirectory = "/log";

bool TakeChunk(std::string_view* input, std::string* out) {
  if (input->size() < 4) return false;
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length |= static_cast<uint32_t>(static_cast<uint8_t>((*input)[i])) << (8 * i);
  input->remove_prefix(4);
  length = std::min<uint32_t>(length, static_cast<uint32_t>(input->size()));
  *out = std::string(input->substr(0, length));
  input->remove_prefix(length);
  return true;
}

uint64_t NameIdOf(std::string_view segment) {
  uint64_t id = 0;
  for (size_t i = 0; i < 8 && 16 + i < segment.size(); ++i) {
    id |= static_cast<uint64_t>(static_cast<uint8_t>(segment[16 + i])) << (8 * i);
  }
  return id;
}

log::AppendResult AppendAndWait(log::Log& log, std::string payload) {
  std::promise<log::AppendResult> done;
  log.Append(std::move(payload), [&done](const log::AppendResult& result) { done.set_value(result); });
  return done.get_future().get();
}

// Every stored entry, in order; checks the ids the log hands out.
std::vector<log::LogEntry> ReadAll(log::Log& log) {
  const log::LogStats stats = log.Stats();
  FUZZ_CHECK(stats.first_id <= stats.next_id);
  std::vector<log::LogEntry> all;
  uint64_t next = stats.first_id;
  while (next < stats.next_id) {
    auto batch = log.Read(next, 64, 1 << 20);
    FUZZ_CHECK(batch.ok());
    if (batch->empty()) break;
    for (log::LogEntry& entry : *batch) {
      FUZZ_CHECK(entry.id >= next);
      FUZZ_CHECK(entry.id < stats.next_id);
      next = entry.id + 1;
      all.push_back(std::move(entry));
    }
  }
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const uint8_t options = static_cast<uint8_t>(input[0]);
  input.remove_prefix(1);

  std::vector<std::string> segments;
  for (int extra = options & 3; extra > 0; --extra) {
    std::string segment;
    if (!TakeChunk(&input, &segment)) break;
    segments.push_back(std::move(segment));
  }
  std::string checkpoint;
  const bool has_checkpoint = (options & 4) != 0 && TakeChunk(&input, &checkpoint);
  segments.emplace_back(input);

  static fuzz::MemoryFileSystem* file_system = new fuzz::MemoryFileSystem();
  file_system->Clear();
  if (file_system->CreateDirectories(kDirectory).ok()) {}
  for (const std::string& segment : segments) {
    file_system->SetFile(JoinPath(kDirectory, log::SegmentFileName(NameIdOf(segment))), segment);
  }
  if (has_checkpoint) file_system->SetFile(JoinPath(kDirectory, log::kCheckpointFileName), checkpoint);

  log::LogOptions log_options;
  log_options.directory = kDirectory;
  log_options.segment_bytes = 4096;  // small: the append below may roll a segment
  log_options.preallocate = false;
  // A limit for new appends only: recovery must accept what the format allows.
  log_options.max_record_bytes = (options & 8) != 0 ? 64 : 1 << 20;
  log_options.reserve_bytes = 4096;  // small, so keeping it costs little per input

  auto checked = log::CheckLog(file_system, kDirectory);
  FUZZ_CHECK(checked.ok());
  log::RecoveryReport report;
  auto opened = log::Log::Open(file_system, log_options, &report);
  // The offline check and recovery read the directory the same way.
  FUZZ_CHECK(opened.ok() == checked->corruption.empty());
  if (!opened.ok()) {
    FUZZ_CHECK(opened.status().code() == StatusCode::kCorruption);
    FUZZ_CHECK(!opened.status().message().empty());
    if ((options & 32) == 0) return 0;
    auto repaired = log::RepairLog(file_system, kDirectory);
    if (!repaired.ok()) {
      FUZZ_CHECK(!repaired.status().message().empty());
      return 0;
    }
    FUZZ_CHECK(repaired->changed);
    FUZZ_CHECK(!repaired->Describe().empty());
    auto again = log::RepairLog(file_system, kDirectory);
    FUZZ_CHECK(again.ok() && !again->changed);
    opened = log::Log::Open(file_system, log_options, &report);
    FUZZ_CHECK(opened.ok());
  }
  std::unique_ptr<log::Log> log = std::move(opened).value();
  FUZZ_CHECK(report.corruption.empty());
  FUZZ_CHECK(log->Stats().first_id <= log->Stats().next_id);
  std::vector<log::LogEntry> before = ReadAll(*log);
  FUZZ_CHECK(before.size() <= report.entries);

  const log::LogStats stats = log->Stats();
  FUZZ_CHECK(stats.next_id <= log::kEntryIdLimit);
  const std::string payload = "appended after recovery";
  log::AppendResult appended = AppendAndWait(*log, payload);
  // A log that ends at the end of the id space takes no append, and writes none.
  const bool space_left = stats.next_id < log::kEntryIdLimit;
  if (space_left) {
    FUZZ_CHECK(appended.durability == Durability::kTrue);
    FUZZ_CHECK(appended.id == stats.next_id);
  } else {
    FUZZ_CHECK(appended.durability == Durability::kFalse);
    FUZZ_CHECK(appended.status.code() == StatusCode::kResourceExhausted);
    FUZZ_CHECK(log->Stats().next_id == stats.next_id);
  }
  FUZZ_CHECK(log->Close().ok());
  if ((options & 16) == 0 || !space_left) return 0;

  // What recovered once, plus the append, recovers again.
  log::RecoveryReport again_report;
  auto again = log::Log::Open(file_system, log_options, &again_report);
  FUZZ_CHECK(again.ok());
  std::vector<log::LogEntry> after = ReadAll(**again);
  FUZZ_CHECK(!after.empty());
  FUZZ_CHECK(after.back().id == appended.id);
  FUZZ_CHECK(after.back().payload == payload);
  FUZZ_CHECK(after.size() == before.size() + 1);
  for (size_t i = 0; i < before.size(); ++i) {
    FUZZ_CHECK(after[i].id == before[i].id);
    FUZZ_CHECK(after[i].payload == before[i].payload);
  }
  FUZZ_CHECK((*again)->Close().ok());
  return 0;
}
