#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "log/log_test_fixture.h"
#include "log/segment.h"

namespace wal::log {
namespace {

using testing::ReadWholeFile;
using testing::WriteWholeFile;

class SegmentedLogTest : public testing::LogTestBase {};

TEST_F(SegmentedLogTest, AppendReadAndReopen) {
  auto log = OpenOrDie();
  for (uint64_t i = 0; i < 10; ++i) {
    AppendResult result = AppendAndWait(log.get(), PayloadFor(i));
    ASSERT_EQ(result.durability, Durability::kTrue) << result.status.ToString();
    EXPECT_EQ(result.id, i);
  }
  auto entries = ReadAll(log.get());
  ASSERT_EQ(entries.size(), 10u);
  for (uint64_t i = 0; i < 10; ++i) {
    EXPECT_EQ(entries[i].id, i);
    EXPECT_EQ(entries[i].payload, PayloadFor(i));
  }
  auto limited = log->Read(3, 4, SIZE_MAX);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 4u);
  EXPECT_EQ(limited->front().id, 3u);
  auto by_bytes = log->Read(0, 100, 1);  // at least one entry even if it exceeds max_bytes
  ASSERT_TRUE(by_bytes.ok());
  EXPECT_EQ(by_bytes->size(), 1u);
  EXPECT_TRUE(log->Read(10, 100, SIZE_MAX)->empty());

  LogStats stats = log->Stats();
  EXPECT_EQ(stats.next_id, 10u);
  EXPECT_EQ(stats.appends, 10u);
  EXPECT_EQ(stats.first_id, 0u);
  EXPECT_EQ(stats.segments, 1u);
  EXPECT_GT(stats.bytes, 0u);
  ASSERT_TRUE(log->Close().ok());
  ASSERT_TRUE(log->Close().ok());  // idempotent
  EXPECT_EQ(AppendAndWait(log.get(), "late").durability, Durability::kFalse);
  log.reset();

  RecoveryReport report;
  log = OpenOrDie(nullptr, &report);
  EXPECT_EQ(report.entries, 10u);
  EXPECT_EQ(report.segments, 1u);
  EXPECT_EQ(report.truncated_tail_bytes, 0u);
  EXPECT_TRUE(report.corruption.empty());
  AppendResult next = AppendAndWait(log.get(), "after reopen");
  EXPECT_EQ(next.id, 10u);
  EXPECT_EQ(ReadAll(log.get()).size(), 11u);
}

// A consumer reads one entry at a time by id; each such read must cost about
// one index span of I/O, not the whole max_bytes budget (a 1 MiB read and fill
// per entry capped delivery from the embedded log at a few thousand a second).
TEST_F(SegmentedLogTest, ReadingOneEntryReadsAboutOneIndexSpan) {
  auto log = OpenOrDie();
  const std::string payload(1024, 'p');
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(AppendAndWait(log.get(), payload).durability, Durability::kTrue);
  for (uint64_t id : {0u, 1234u, 2999u}) {
    const uint64_t before = fs_.bytes_read();
    auto read = log->Read(id, 1, 1 << 20);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ASSERT_EQ(read->size(), 1u);
    EXPECT_EQ(read->front().id, id);
    EXPECT_EQ(read->front().payload, payload);
    EXPECT_LE(fs_.bytes_read() - before, 2 * kIndexSpacingBytes) << "reading id " << id;
  }
  // A record bigger than the read-ahead still comes back whole.
  const std::string large(300 * 1024, 'L');
  AppendResult appended = AppendAndWait(log.get(), large);
  ASSERT_EQ(appended.durability, Durability::kTrue);
  auto read = log->Read(appended.id, 1, 1 << 20);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ(read->front().payload, large);
  ASSERT_TRUE(log->Close().ok());
}

TEST_F(SegmentedLogTest, OversizedPayloadIsRefusedInline) {
  options_.max_record_bytes = 100;
  auto log = OpenOrDie();
  AppendResult result = AppendAndWait(log.get(), std::string(101, 'x'));
  EXPECT_EQ(result.durability, Durability::kFalse);
  EXPECT_EQ(AppendAndWait(log.get(), std::string(100, 'x')).id, 0u);
}

TEST_F(SegmentedLogTest, CloseDrainsQueuedAppends) {
  auto log = OpenOrDie();
  std::atomic<int> answered{0};
  std::atomic<int> durable{0};
  for (int i = 0; i < 2000; ++i) {
    log->Append(PayloadFor(i), [&](const AppendResult& result) {
      answered.fetch_add(1);
      if (result.durability == Durability::kTrue) durable.fetch_add(1);
    });
  }
  ASSERT_TRUE(log->Close().ok());
  EXPECT_EQ(answered.load(), 2000);
  EXPECT_EQ(durable.load(), 2000);
}

// Cutting the last segment at every byte offset models a crash at any point of a
// write: recovery must keep exactly the records that lie wholly before the cut.
TEST_F(SegmentedLogTest, TruncationAtEveryOffsetRecoversWholeRecords) {
  constexpr int kRecords = 12;
  std::vector<uint64_t> record_ends;  // file offset just past each record
  {
    auto log = OpenOrDie();
    uint64_t offset = kSegmentHeaderSize;
    for (int i = 0; i < kRecords; ++i) {
      std::string payload = PayloadFor(i);
      ASSERT_EQ(AppendAndWait(log.get(), payload).durability, Durability::kTrue);
      offset += EncodedRecordSize(payload.size());
      record_ends.push_back(offset);
    }
  }
  const std::string path = SegmentPath(0);
  const std::string original = ReadWholeFile(path);
  ASSERT_EQ(original.size(), record_ends.back());

  for (size_t cut = 0; cut <= original.size(); ++cut) {
    WriteWholeFile(path, original.substr(0, cut));
    size_t expected = 0;
    while (expected < record_ends.size() && record_ends[expected] <= cut) ++expected;
    uint64_t good_end = expected == 0 ? kSegmentHeaderSize : record_ends[expected - 1];
    uint64_t expected_truncated = cut < kSegmentHeaderSize ? cut : cut - good_end;

    RecoveryReport report;
    auto log = Log::Open(DefaultFileSystem(), options_, &report);
    ASSERT_TRUE(log.ok()) << "cut " << cut << ": " << log.status().ToString();
    EXPECT_EQ(report.entries, expected) << "cut " << cut;
    EXPECT_EQ(report.truncated_tail_bytes, expected_truncated) << "cut " << cut;
    auto entries = ReadAll(log->get());
    ASSERT_EQ(entries.size(), expected) << "cut " << cut;
    for (size_t i = 0; i < entries.size(); ++i) {
      ASSERT_EQ(entries[i].id, i);
      ASSERT_EQ(entries[i].payload, PayloadFor(i));
    }
    if (cut % 5 == 0) {
      // The repaired log accepts new entries right after the surviving ones.
      AppendResult next = AppendAndWait(log->get(), "next");
      ASSERT_EQ(next.durability, Durability::kTrue);
      EXPECT_EQ(next.id, expected);
      ASSERT_TRUE((*log)->Close().ok());
      log->reset();
      auto reopened = Log::Open(DefaultFileSystem(), options_, nullptr);
      ASSERT_TRUE(reopened.ok()) << "cut " << cut << ": " << reopened.status().ToString();
      EXPECT_EQ((*reopened)->Stats().next_id, expected + 1);
    }
  }
}

TEST_F(SegmentedLogTest, ZeroAndGarbageTailIsTruncated) {
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  }
  const std::string path = SegmentPath(0);
  std::string contents = ReadWholeFile(path);
  WriteWholeFile(path, contents + std::string(4096, '\0') + "garbage that is not a record");
  RecoveryReport report;
  auto log = OpenOrDie(nullptr, &report);
  EXPECT_EQ(report.entries, 5u);
  EXPECT_EQ(report.truncated_tail_bytes, 4096u + 28u);
  EXPECT_EQ(ReadWholeFile(path).size(), contents.size());
}

// Damage in any byte of a record that has valid records after it is mid-log
// corruption, never a torn tail.
TEST_F(SegmentedLogTest, MiddleRecordCorruptionFailsOpen) {
  std::vector<uint64_t> record_starts;
  {
    auto log = OpenOrDie();
    uint64_t offset = kSegmentHeaderSize;
    for (int i = 0; i < 10; ++i) {
      record_starts.push_back(offset);
      ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
      offset += EncodedRecordSize(PayloadFor(i).size());
    }
  }
  const std::string path = SegmentPath(0);
  const std::string original = ReadWholeFile(path);
  for (uint64_t position = record_starts[4]; position < record_starts[5]; ++position) {
    std::string damaged = original;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x40);
    WriteWholeFile(path, damaged);
    RecoveryReport report;
    auto log = Log::Open(DefaultFileSystem(), options_, &report);
    ASSERT_FALSE(log.ok()) << "damage at " << position << " was not detected";
    EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
    EXPECT_NE(report.corruption.find(SegmentFileName(0)), std::string::npos) << report.corruption;
    EXPECT_NE(report.corruption.find("offset " + std::to_string(record_starts[4])), std::string::npos)
        << report.corruption;
  }
  // The file is left untouched for an operator to inspect.
  WriteWholeFile(path, original);
  EXPECT_EQ(OpenOrDie()->Stats().next_id, 10u);
}

TEST_F(SegmentedLogTest, DamageInNonLastSegmentFailsOpenEvenAtItsEnd) {
  options_.segment_bytes = 256;
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 40; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  }
  auto names = SegmentNames();
  ASSERT_GE(names.size(), 3u);
  const std::string path = JoinPath(directory_, names[1]);
  std::string contents = ReadWholeFile(path);
  WriteWholeFile(path, contents.substr(0, contents.size() - 1));  // a torn-looking end, but not in the last segment
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
  EXPECT_NE(report.corruption.find(names[1]), std::string::npos) << report.corruption;
}

TEST_F(SegmentedLogTest, MissingMiddleSegmentFailsOpen) {
  options_.segment_bytes = 256;
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 40; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  }
  auto names = SegmentNames();
  ASSERT_GE(names.size(), 3u);
  ASSERT_TRUE(DefaultFileSystem()->RemoveFile(JoinPath(directory_, names[1])).ok());
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
  EXPECT_FALSE(report.corruption.empty());
}

TEST_F(SegmentedLogTest, GroupCommitManyThreads) {
  constexpr int kThreads = 32;
  constexpr int kPerThread = 500;
  constexpr int kTotal = kThreads * kPerThread;
  auto log = OpenOrDie();

  std::mutex mutex;
  std::vector<int> calls_per_id(kTotal, 0);
  std::vector<std::string> payload_by_id(kTotal);
  std::atomic<int> failures{0};
  std::atomic<bool> writers_done{false};

  // A reader running alongside must only ever see durable, intact entries.
  std::atomic<int> reader_errors{0};
  std::thread reader([&] {
    uint64_t next = 0;
    while (!writers_done.load()) {
      auto entries = log->Read(next, 256, 1 << 20);
      if (!entries.ok()) {
        reader_errors.fetch_add(1);
        break;
      }
      for (const LogEntry& entry : entries.value()) {
        if (entry.id != next++ || entry.payload.rfind("t", 0) != 0) reader_errors.fetch_add(1);
      }
    }
  });

  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i);
        AppendResult result = AppendAndWait(log.get(), payload);
        if (result.durability != Durability::kTrue || result.id >= kTotal) {
          failures.fetch_add(1);
          continue;
        }
        std::lock_guard lock(mutex);
        ++calls_per_id[result.id];
        payload_by_id[result.id] = payload;
      }
    });
  }
  for (auto& writer : writers) writer.join();
  writers_done.store(true);
  reader.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(reader_errors.load(), 0);
  for (int id = 0; id < kTotal; ++id) ASSERT_EQ(calls_per_id[id], 1) << "id " << id;
  LogStats stats = log->Stats();
  EXPECT_EQ(stats.appends, static_cast<uint64_t>(kTotal));
  EXPECT_EQ(stats.next_id, static_cast<uint64_t>(kTotal));
  EXPECT_LT(stats.fsyncs, static_cast<uint64_t>(kTotal / 4)) << "appends were not grouped";
  EXPECT_EQ(fs_.syncs(), stats.fsyncs + 1);  // + the first segment's header sync
  std::cout << "group commit: " << kTotal << " appends in " << stats.fsyncs << " fsyncs\n";
  ASSERT_TRUE(log->Close().ok());
  log.reset();

  log = OpenOrDie();
  auto entries = ReadAll(log.get());
  ASSERT_EQ(entries.size(), static_cast<size_t>(kTotal));
  for (int id = 0; id < kTotal; ++id) {
    ASSERT_EQ(entries[id].id, static_cast<uint64_t>(id));
    ASSERT_EQ(entries[id].payload, payload_by_id[id]);
  }
}

// 64 appenders of 1 KiB each, each waiting for its own acknowledgement, as the
// server's request handlers do. Prints the rate; asserts that groups formed.
TEST_F(SegmentedLogTest, GroupCommitThroughput) {
  constexpr int kThreads = 64;
  const auto kDuration = std::chrono::milliseconds(1500);
  auto log = OpenOrDie();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  const std::string payload(1024, 'p');
  auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (AppendAndWait(log.get(), payload).durability == Durability::kTrue) {
          acknowledged.fetch_add(1, std::memory_order_relaxed);
        } else {
          failures.fetch_add(1);
        }
      }
    });
  }
  std::this_thread::sleep_for(kDuration);
  stop.store(true);
  for (auto& writer : writers) writer.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LogStats stats = log->Stats();
  double rate = static_cast<double>(acknowledged.load()) / seconds;
  std::cout << "group commit throughput: " << static_cast<uint64_t>(rate) << " appends/s, "
            << acknowledged.load() << " appends in " << stats.fsyncs << " fsyncs ("
            << static_cast<double>(acknowledged.load()) / static_cast<double>(std::max<uint64_t>(1, stats.fsyncs))
            << " per fsync)\n";
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stats.appends, acknowledged.load());
  EXPECT_GT(acknowledged.load(), 8 * stats.fsyncs) << "64 concurrent appenders should form large groups";
}

TEST_F(SegmentedLogTest, SegmentRollReadAcrossAndRetention) {
  options_.segment_bytes = 512;
  constexpr uint64_t kEntries = 200;
  auto log = OpenOrDie();
  for (uint64_t i = 0; i < kEntries; ++i) {
    ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  }
  LogStats stats = log->Stats();
  ASSERT_GT(stats.segments, 5u);
  EXPECT_EQ(stats.segments, SegmentNames().size());
  std::vector<uint64_t> first_ids = log->SegmentFirstIds();
  ASSERT_EQ(first_ids.size(), stats.segments);
  EXPECT_EQ(first_ids.front(), 0u);
  for (size_t i = 0; i < first_ids.size(); ++i) {
    EXPECT_EQ(SegmentNames()[i], SegmentFileName(first_ids[i]));
    if (i > 0) {
      EXPECT_LT(first_ids[i - 1], first_ids[i]);
    }
  }

  // Reads starting anywhere, with any limit, cross segment boundaries seamlessly.
  for (uint64_t from = 0; from < kEntries; from += 7) {
    auto entries = log->Read(from, 50, SIZE_MAX);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(entries->size(), std::min<uint64_t>(50, kEntries - from));
    for (size_t i = 0; i < entries->size(); ++i) {
      ASSERT_EQ((*entries)[i].id, from + i);
      ASSERT_EQ((*entries)[i].payload, PayloadFor(from + i));
    }
  }

  // Beyond the durable end: refused.
  EXPECT_EQ(log->CommitConsumed(kEntries + 1).code(), StatusCode::kInvalidArgument);

  const uint64_t consumed = 120;
  ASSERT_TRUE(log->CommitConsumed(consumed).ok());
  LogStats after = log->Stats();
  EXPECT_EQ(after.consumed_id, consumed);
  EXPECT_LT(after.segments, stats.segments);
  EXPECT_GT(after.first_id, 0u);
  EXPECT_LE(after.first_id, consumed);  // the segment holding `consumed` is kept
  EXPECT_EQ(after.segments, SegmentNames().size());
  EXPECT_EQ(log->SegmentFirstIds().front(), after.first_id);
  EXPECT_LT(after.bytes, stats.bytes);
  // Reading from before first_id starts at first_id.
  auto entries = ReadAll(log.get(), 0);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.front().id, after.first_id);
  EXPECT_EQ(entries.back().id, kEntries - 1);

  ASSERT_TRUE(log->CommitConsumed(50).ok());  // backwards: ignored
  EXPECT_EQ(log->Stats().consumed_id, consumed);

  // Consuming everything never deletes the active segment.
  ASSERT_TRUE(log->CommitConsumed(kEntries).ok());
  EXPECT_EQ(log->Stats().segments, 1u);
  EXPECT_EQ(SegmentNames().size(), 1u);
  ASSERT_TRUE(log->Close().ok());
  log.reset();

  RecoveryReport report;
  log = OpenOrDie(nullptr, &report);
  LogStats reopened = log->Stats();
  EXPECT_EQ(reopened.consumed_id, kEntries);
  EXPECT_EQ(reopened.next_id, kEntries);
  EXPECT_EQ(reopened.segments, 1u);
  EXPECT_EQ(AppendAndWait(log.get(), "more").id, kEntries);
}

TEST_F(SegmentedLogTest, CheckpointSurvivesReopenAndDamageIsDetected) {
  options_.segment_bytes = 256;
  {
    auto log = OpenOrDie();
    for (int i = 0; i < 30; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
    ASSERT_TRUE(log->CommitConsumed(17).ok());
  }
  {
    auto log = OpenOrDie();
    EXPECT_EQ(log->Stats().consumed_id, 17u);
    EXPECT_EQ(ReadAll(log.get(), 17).front().id, 17u);
  }
  const std::string checkpoint = JoinPath(directory_, std::string(kCheckpointFileName));
  std::string contents = ReadWholeFile(checkpoint);
  contents[9] = static_cast<char>(contents[9] ^ 1);
  WriteWholeFile(checkpoint, contents);
  RecoveryReport report;
  auto log = Log::Open(DefaultFileSystem(), options_, &report);
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
  EXPECT_NE(report.corruption.find("consumer.checkpoint"), std::string::npos) << report.corruption;
}

TEST_F(SegmentedLogTest, FsyncFailurePoisonsUntilReopen) {
  auto log = OpenOrDie();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  fs_.FailNextSyncs(1);
  AppendResult failed = AppendAndWait(log.get(), PayloadFor(3));
  EXPECT_EQ(failed.durability, Durability::kUnknown);
  EXPECT_EQ(failed.id, 3u);
  EXPECT_NE(failed.status.message().find("injected fsync failure"), std::string::npos) << failed.status.ToString();
  EXPECT_TRUE(log->Stats().poisoned);

  // Poisoned: refused immediately, even though the next fsync would succeed.
  AppendResult refused = AppendAndWait(log.get(), PayloadFor(4));
  EXPECT_EQ(refused.durability, Durability::kFalse);
  EXPECT_EQ(refused.status.code(), StatusCode::kFailedPrecondition);
  // Acknowledged entries stay readable; the unknown one is not served.
  EXPECT_EQ(ReadAll(log.get()).size(), 3u);
  ASSERT_TRUE(log->Close().ok());
  log.reset();

  RecoveryReport report;
  log = OpenOrDie(nullptr, &report);
  EXPECT_FALSE(log->Stats().poisoned);
  // Recovery decides: the bytes did reach the file, so the entry of unknown fate survives.
  uint64_t survivors = report.entries;
  EXPECT_GE(survivors, 3u);
  AppendResult next = AppendAndWait(log.get(), "after reopen");
  EXPECT_EQ(next.durability, Durability::kTrue);
  EXPECT_EQ(next.id, survivors);
  auto entries = ReadAll(log.get());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(entries[i].payload, PayloadFor(i));
}

TEST_F(SegmentedLogTest, NoSpaceFailsGroupAndKeepsServing) {
  auto log = OpenOrDie();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  fs_.SetNoSpace(true);
  for (int attempt = 0; attempt < 3; ++attempt) {
    AppendResult failed = AppendAndWait(log.get(), "will not fit");
    EXPECT_EQ(failed.durability, Durability::kFalse);
    EXPECT_EQ(failed.status.code(), StatusCode::kNoSpace) << failed.status.ToString();
  }
  EXPECT_FALSE(log->Stats().poisoned);
  fs_.SetNoSpace(false);
  for (int i = 5; i < 8; ++i) {
    AppendResult ok = AppendAndWait(log.get(), PayloadFor(i));
    ASSERT_EQ(ok.durability, Durability::kTrue);
    EXPECT_EQ(ok.id, static_cast<uint64_t>(i));  // the failed ids were not consumed
  }
  auto entries = ReadAll(log.get());
  ASSERT_EQ(entries.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(entries[i].payload, PayloadFor(i));
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  RecoveryReport report;
  log = OpenOrDie(nullptr, &report);
  EXPECT_EQ(report.entries, 8u);
  EXPECT_EQ(report.truncated_tail_bytes, 0u);
}

TEST_F(SegmentedLogTest, ShortWriteIsCutBackAndRecoversCleanly) {
  auto log = OpenOrDie();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  fs_.ShortWriteNext(10);
  AppendResult failed = AppendAndWait(log.get(), "torn by a short write");
  EXPECT_EQ(failed.durability, Durability::kFalse);
  EXPECT_FALSE(log->Stats().poisoned);
  AppendResult next = AppendAndWait(log.get(), PayloadFor(3));
  ASSERT_EQ(next.durability, Durability::kTrue);
  EXPECT_EQ(next.id, 3u);
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  RecoveryReport report;
  log = OpenOrDie(nullptr, &report);
  EXPECT_EQ(report.entries, 4u);
  EXPECT_EQ(report.truncated_tail_bytes, 0u);
  auto entries = ReadAll(log.get());
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[3].payload, PayloadFor(3));
}

TEST_F(SegmentedLogTest, ShortWriteWithFailedTruncatePoisonsAndRecoveryCutsTheTail) {
  auto log = OpenOrDie();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(i)).durability, Durability::kTrue);
  fs_.ShortWriteNext(10);
  fs_.FailTruncate(true);
  AppendResult failed = AppendAndWait(log.get(), "torn by a short write");
  EXPECT_NE(failed.durability, Durability::kTrue);
  EXPECT_TRUE(log->Stats().poisoned);
  EXPECT_EQ(AppendAndWait(log.get(), "refused").status.code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  fs_.Reset();

  RecoveryReport report;
  log = OpenOrDie(nullptr, &report);
  EXPECT_EQ(report.entries, 3u);
  EXPECT_EQ(report.truncated_tail_bytes, 10u);
  EXPECT_EQ(AppendAndWait(log.get(), PayloadFor(3)).id, 3u);
}

TEST_F(SegmentedLogTest, NoSpaceWhileRollingKeepsServing) {
  options_.segment_bytes = 200;
  auto log = OpenOrDie();
  uint64_t id = 0;
  // Fill the first segment past segment_bytes so the next append must roll.
  while (log->Stats().bytes + kSegmentHeaderSize < options_.segment_bytes) {
    ASSERT_EQ(AppendAndWait(log.get(), PayloadFor(id)).id, id);
    ++id;
  }
  fs_.SetNoSpace(true);
  EXPECT_EQ(AppendAndWait(log.get(), "no room for a new segment").durability, Durability::kFalse);
  fs_.SetNoSpace(false);
  EXPECT_FALSE(log->Stats().poisoned);
  AppendResult next = AppendAndWait(log.get(), PayloadFor(id));
  ASSERT_EQ(next.durability, Durability::kTrue);
  EXPECT_EQ(next.id, id);
  ASSERT_TRUE(log->Close().ok());
  log.reset();
  log = OpenOrDie();
  EXPECT_EQ(log->Stats().next_id, id + 1);
}

}  // namespace
}  // namespace wal::log
