#include "common/testing/power_loss_file_system.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace wal::testing {
namespace {

constexpr int kSeeds = 200;

std::unique_ptr<WritableFile> OpenOrDie(FileSystem& fs, const std::string& path) {
  auto file = fs.OpenAppendable(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return file.ok() ? std::move(file).value() : nullptr;
}

// The contents of `path`, or "<missing>".
std::string ContentsOf(FileSystem& fs, const std::string& path) {
  auto read = fs.ReadFile(path);
  return read.ok() ? read.value() : "<missing>";
}

// A directory whose own entry is durable, as a deployment's data directory is.
void MakeDurableDirectory(PowerLossFileSystem& fs, const std::string& path) {
  ASSERT_TRUE(fs.CreateDirectories(path).ok());
  ASSERT_TRUE(fs.SyncDirectory("/").ok());
}

TEST(PowerLossFileSystemTest, BehavesAsAFileSystemWhileRunning) {
  PowerLossFileSystem fs;
  ASSERT_TRUE(fs.CreateDirectories("/data/log").ok());
  ASSERT_TRUE(fs.CreateDirectories("/data/log/").ok());  // a second time is fine
  EXPECT_TRUE(fs.Exists("/data"));
  EXPECT_FALSE(fs.Exists("/data/nothing"));
  EXPECT_EQ(fs.OpenAppendable("/missing/file").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs.OpenRandomAccess("/data/none").status().code(), StatusCode::kNotFound);

  auto file = OpenOrDie(fs, "/data/log/b");
  ASSERT_TRUE(file->Append("hello").ok());
  ASSERT_TRUE(file->Append(" world").ok());
  EXPECT_EQ(file->Size(), 11u);
  ASSERT_TRUE(file->Truncate(5).ok());
  ASSERT_TRUE(file->Append("!").ok());
  EXPECT_EQ(ContentsOf(fs, "/data/log/b"), "hello!");
  auto reader = fs.OpenRandomAccess("/data/log/b");
  ASSERT_TRUE(reader.ok());
  std::string out;
  ASSERT_TRUE((*reader)->ReadAt(1, 3, &out).ok());
  EXPECT_EQ(out, "ell");
  ASSERT_TRUE((*reader)->ReadAt(4, 100, &out).ok());
  EXPECT_EQ(out, "o!");
  EXPECT_EQ((*reader)->Size().value(), 6u);

  // Reopening appends at the end; the open reader sees new bytes.
  auto again = OpenOrDie(fs, "/data/log/b");
  EXPECT_EQ(again->Size(), 6u);
  ASSERT_TRUE(again->Append("?").ok());
  EXPECT_EQ((*reader)->Size().value(), 7u);

  ASSERT_TRUE(fs.WriteFileAtomically("/data/log/a", "checkpoint").ok());
  EXPECT_EQ(ContentsOf(fs, "/data/log/a"), "checkpoint");
  EXPECT_FALSE(fs.Exists("/data/log/a.tmp"));
  auto listed = fs.ListDirectory("/data/log");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<std::string>{"a", "b"}));
  auto top = fs.ListDirectory("/data");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(*top, std::vector<std::string>{"log"});

  auto before = fs.Stat("/data/log/b");
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(fs.Rename("/data/log/b", "/data/log/a").ok());  // replaces a
  EXPECT_EQ(ContentsOf(fs, "/data/log/a"), "hello!?");
  EXPECT_EQ(fs.Stat("/data/log/a")->inode, before->inode);
  EXPECT_EQ(fs.Stat("/data/log/b").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(fs.RemoveFile("/data/log/a").ok());
  EXPECT_EQ(fs.RemoveFile("/data/log/a").code(), StatusCode::kNotFound);
  // An unlinked file stays readable through an open descriptor.
  ASSERT_TRUE((*reader)->ReadAt(0, 5, &out).ok());
  EXPECT_EQ(out, "hello");

  ASSERT_TRUE(OpenOrDie(fs, "/data/log/c")->Append("x").ok());
  ASSERT_TRUE(fs.RemoveAll("/data").ok());
  EXPECT_FALSE(fs.Exists("/data"));
  EXPECT_FALSE(fs.Exists("/data/log/c"));
  EXPECT_TRUE(fs.RemoveAll("/data").ok());
}

TEST(PowerLossFileSystemTest, RecordsEveryChangeAsACrashPoint) {
  PowerLossFileSystem fs;
  EXPECT_EQ(fs.operation_count(), 0u);
  ASSERT_TRUE(fs.CreateDirectories("/d").ok());           // mkdir, syncdir of the parent
  auto file = OpenOrDie(fs, "/d/f");                      // create
  ASSERT_TRUE(file->Preallocate(1 << 20).ok());           // preallocate
  ASSERT_TRUE(file->Append("abc").ok());                  // write
  ASSERT_TRUE(file->Sync().ok());                         // sync
  ASSERT_TRUE(file->Truncate(1).ok());                    // truncate
  ASSERT_TRUE(fs.Rename("/d/f", "/d/g").ok());            // rename
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());               // syncdir
  ASSERT_TRUE(fs.RemoveFile("/d/g").ok());                // unlink
  ASSERT_TRUE(fs.RemoveAll("/d").ok());                   // rmdir
  EXPECT_EQ(fs.operation_count(), 11u);
  EXPECT_EQ(fs.sync_count(), 3u);
  EXPECT_EQ(fs.DescribeOperation(1), "#1 syncdir /");
  EXPECT_EQ(fs.DescribeOperation(4), "#4 write /d/f @0 +3 bytes");
  EXPECT_EQ(fs.DescribeOperation(7), "#7 rename /d/f -> /d/g");
  EXPECT_EQ(fs.DescribeOperation(11), "#11 (end of the workload)");
  // Reads are not crash points.
  (void)fs.ReadFile("/d/g");
  (void)fs.ListDirectory("/");
  EXPECT_EQ(fs.operation_count(), 11u);
}

TEST(PowerLossFileSystemTest, ASyncedWriteSurvivesEveryLaterCrashPoint) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  auto file = OpenOrDie(fs, "/d/f");
  ASSERT_TRUE(file->Append("synced-").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  const uint64_t durable_from = fs.operation_count();
  ASSERT_TRUE(file->Append("unsynced-one-").ok());
  ASSERT_TRUE(file->Append("unsynced-two").ok());
  ASSERT_TRUE(fs.Rename("/d/f", "/d/f2").ok());  // unsynced: may be reverted
  for (uint64_t point = durable_from; point <= fs.operation_count(); ++point) {
    for (int seed = 0; seed < kSeeds; ++seed) {
      CrashReport report;
      auto crashed = fs.CrashState(point, seed, CrashOptions{}, &report);
      std::string contents = ContentsOf(*crashed, "/d/f");
      if (contents == "<missing>") contents = ContentsOf(*crashed, "/d/f2");
      ASSERT_EQ(contents.substr(0, 7), "synced-") << report.Summary();
    }
  }
}

TEST(PowerLossFileSystemTest, AnUnsyncedAppendIsSometimesKeptDroppedOrTorn) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  auto file = OpenOrDie(fs, "/d/f");
  ASSERT_TRUE(file->Append("base").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  const std::string unsynced(3000, 'u');
  ASSERT_TRUE(file->Append(unsynced).ok());
  const std::string live = "base" + unsynced;

  bool kept = false, dropped = false, torn = false;
  for (int seed = 0; seed < kSeeds; ++seed) {
    CrashReport report;
    const std::string contents = ContentsOf(*fs.CrashState(fs.operation_count(), seed, CrashOptions{}, &report), "/d/f");
    ASSERT_EQ(contents.substr(0, 4), "base") << report.Summary();
    ASSERT_LE(contents.size(), live.size());
    EXPECT_EQ(report.unsynced_files, 1u);
    if (contents == live) kept = true;
    if (contents == "base") dropped = true;
    if (contents.size() > 4 && contents.size() < live.size()) torn = true;
  }
  EXPECT_TRUE(kept);
  EXPECT_TRUE(dropped);
  EXPECT_TRUE(torn);

  // A forced torn prefix is always a prefix of what the process wrote.
  std::set<size_t> sizes;
  for (int seed = 0; seed < kSeeds; ++seed) {
    CrashOptions options;
    options.data = DataLoss::kTornPrefix;
    const std::string contents = ContentsOf(*fs.CrashState(fs.operation_count(), seed, options, nullptr), "/d/f");
    ASSERT_EQ(live.compare(0, contents.size(), contents), 0);
    sizes.insert(contents.size());
  }
  EXPECT_GT(sizes.size(), 50u) << "tears land at many byte offsets";
}

TEST(PowerLossFileSystemTest, ASectorSubsetCanLeaveAZeroHoleBeforeLaterData) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  auto file = OpenOrDie(fs, "/d/f");
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  // One write of three 4 KiB pages (a group commit), never synced.
  ASSERT_TRUE(file->Append(std::string(3 * 4096, 'x')).ok());
  bool saw_hole = false;
  for (int seed = 0; seed < kSeeds && !saw_hole; ++seed) {
    CrashOptions options;
    options.data = DataLoss::kSectorSubset;
    CrashReport report;
    const std::string contents = ContentsOf(*fs.CrashState(fs.operation_count(), seed, options, &report), "/d/f");
    const size_t first_zero = contents.find('\0');
    const size_t last_x = contents.rfind('x');
    if (first_zero != std::string::npos && last_x != std::string::npos && first_zero < last_x) {
      saw_hole = true;
      EXPECT_TRUE(report.zero_hole) << report.Summary();
      EXPECT_TRUE(report.lost_data);
    }
  }
  EXPECT_TRUE(saw_hole);
}

TEST(PowerLossFileSystemTest, AnUnsyncedTruncateCanBeReverted) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  auto file = OpenOrDie(fs, "/d/f");
  ASSERT_TRUE(file->Append("0123456789").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  ASSERT_TRUE(file->Truncate(4).ok());
  std::set<std::string> outcomes;
  for (int seed = 0; seed < kSeeds; ++seed) {
    outcomes.insert(ContentsOf(*fs.CrashState(fs.operation_count(), seed, CrashOptions{}, nullptr), "/d/f"));
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"0123", "0123456789"}));
  ASSERT_TRUE(file->Sync().ok());
  for (int seed = 0; seed < kSeeds; ++seed) {
    EXPECT_EQ(ContentsOf(*fs.CrashState(fs.operation_count(), seed, CrashOptions{}, nullptr), "/d/f"), "0123");
  }
}

TEST(PowerLossFileSystemTest, AnUnsyncedRenameCanRevertButIsAtomic) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  ASSERT_TRUE(fs.WriteFileAtomically("/d/ckpt", "old").ok());
  auto temporary = OpenOrDie(fs, "/d/ckpt.new");
  ASSERT_TRUE(temporary->Append("new").ok());
  ASSERT_TRUE(temporary->Sync().ok());
  ASSERT_TRUE(fs.Rename("/d/ckpt.new", "/d/ckpt").ok());
  std::set<std::string> outcomes;
  for (int seed = 0; seed < kSeeds; ++seed) {
    CrashOptions options;
    options.directories = DirectoryLoss::kUnordered;
    CrashReport report;
    auto crashed = fs.CrashState(fs.operation_count(), seed, options, &report);
    const std::string contents = ContentsOf(*crashed, "/d/ckpt");
    ASSERT_TRUE(contents == "old" || contents == "new") << contents << "\n" << report.Summary();
    outcomes.insert(contents);
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"old", "new"}));
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  for (int seed = 0; seed < kSeeds; ++seed) {
    auto crashed = fs.CrashState(fs.operation_count(), seed, CrashOptions{}, nullptr);
    EXPECT_EQ(ContentsOf(*crashed, "/d/ckpt"), "new");
    EXPECT_FALSE(crashed->Exists("/d/ckpt.new"));
  }
}

TEST(PowerLossFileSystemTest, WriteFileAtomicallyLeavesTheOldOrTheNewContentsAtEveryCrashPoint) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  ASSERT_TRUE(fs.WriteFileAtomically("/d/ckpt", "first").ok());
  const uint64_t first_done = fs.operation_count();
  ASSERT_TRUE(fs.WriteFileAtomically("/d/ckpt", "second").ok());
  std::set<std::string> outcomes;
  for (uint64_t point = first_done; point <= fs.operation_count(); ++point) {
    for (int seed = 0; seed < kSeeds; ++seed) {
      CrashReport report;
      const std::string contents = ContentsOf(*fs.CrashState(point, seed, CrashOptions{}, &report), "/d/ckpt");
      ASSERT_TRUE(contents == "first" || contents == "second") << contents << "\n" << report.Summary();
      if (point == fs.operation_count()) {
        EXPECT_EQ(contents, "second");
      }
      outcomes.insert(contents);
    }
  }
  EXPECT_EQ(outcomes.size(), 2u);
}

TEST(PowerLossFileSystemTest, AnUnsyncedCreateCanBeLostEvenWithItsDataSynced) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  auto file = OpenOrDie(fs, "/d/f");
  ASSERT_TRUE(file->Append("data").ok());
  ASSERT_TRUE(file->Sync().ok());  // fdatasync does not make the name durable
  std::set<std::string> unordered, journaled;
  for (int seed = 0; seed < kSeeds; ++seed) {
    CrashOptions options;
    options.directories = DirectoryLoss::kUnordered;
    unordered.insert(ContentsOf(*fs.CrashState(fs.operation_count(), seed, options, nullptr), "/d/f"));
    options.directories = DirectoryLoss::kJournaled;  // the sync committed the create
    journaled.insert(ContentsOf(*fs.CrashState(fs.operation_count(), seed, options, nullptr), "/d/f"));
  }
  EXPECT_EQ(unordered, (std::set<std::string>{"data", "<missing>"}));
  EXPECT_EQ(journaled, std::set<std::string>{"data"});
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  for (int seed = 0; seed < kSeeds; ++seed) {
    EXPECT_EQ(ContentsOf(*fs.CrashState(fs.operation_count(), seed, CrashOptions{}, nullptr), "/d/f"), "data");
  }
}

TEST(PowerLossFileSystemTest, JournaledDirectoryChangesSurviveInOrderAndUnorderedOnesMayNot) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  for (const char* name : {"/d/a", "/d/b"}) {
    ASSERT_TRUE(OpenOrDie(fs, name)->Append("x").ok());
  }
  ASSERT_TRUE(fs.SyncDirectory("/d").ok());
  ASSERT_TRUE(fs.RemoveFile("/d/a").ok());
  ASSERT_TRUE(fs.RemoveFile("/d/b").ok());
  auto state = [&](const CrashOptions& options, int seed) {
    CrashReport report;
    auto crashed = fs.CrashState(fs.operation_count(), seed, options, &report);
    return std::string(crashed->Exists("/d/a") ? "a" : "-") + (crashed->Exists("/d/b") ? "b" : "-");
  };
  std::set<std::string> journaled, unordered;
  for (int seed = 0; seed < kSeeds; ++seed) {
    CrashOptions options;
    options.directories = DirectoryLoss::kJournaled;
    journaled.insert(state(options, seed));
    options.directories = DirectoryLoss::kUnordered;
    unordered.insert(state(options, seed));
  }
  EXPECT_EQ(journaled, (std::set<std::string>{"ab", "-b", "--"}));
  EXPECT_EQ(unordered, (std::set<std::string>{"ab", "-b", "a-", "--"}));
  CrashOptions options;
  options.directories = DirectoryLoss::kUnordered;
  bool reported = false;
  for (int seed = 0; seed < kSeeds && !reported; ++seed) {
    CrashReport report;
    auto crashed = fs.CrashState(fs.operation_count(), seed, options, &report);
    if (crashed->Exists("/d/a") && !crashed->Exists("/d/b")) {
      EXPECT_TRUE(report.reordered_directory_ops) << report.Summary();
      reported = true;
    }
  }
  EXPECT_TRUE(reported);
}

TEST(PowerLossFileSystemTest, ADirectoryCanBeLostUntilCreateDirectoriesHasSyncedItsParent) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/data");
  const uint64_t before = fs.operation_count();
  ASSERT_TRUE(fs.CreateDirectories("/data/ns/log").ok());
  ASSERT_EQ(fs.operation_count(), before + 4);
  EXPECT_EQ(fs.DescribeOperation(before + 1), "#" + std::to_string(before + 1) + " syncdir /data");
  EXPECT_EQ(fs.DescribeOperation(before + 3), "#" + std::to_string(before + 3) + " syncdir /data/ns");
  bool lost = false, kept = false;
  for (int seed = 0; seed < kSeeds; ++seed) {
    CrashOptions options;
    options.directories = DirectoryLoss::kUnordered;
    CrashReport report;
    // Before the parent of log/ is synced: log/ may go; ns/ was synced.
    auto crashed = fs.CrashState(before + 3, seed, options, &report);
    EXPECT_TRUE(crashed->Exists("/data/ns"));
    if (crashed->Exists("/data/ns/log")) {
      kept = true;
    } else {
      lost = true;
      EXPECT_TRUE(report.lost_directory) << report.Summary();
    }
    EXPECT_TRUE(fs.CrashState(fs.operation_count(), seed, options, nullptr)->Exists("/data/ns/log"));
  }
  EXPECT_TRUE(lost);
  EXPECT_TRUE(kept);
}

TEST(PowerLossFileSystemTest, ALostDirectoryTakesItsFilesAlong) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/data/ns/log");
  auto file = OpenOrDie(fs, "/data/ns/log/seg");
  ASSERT_TRUE(file->Append("record").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(fs.SyncDirectory("/data/ns/log").ok());
  ASSERT_TRUE(fs.RemoveAll("/data/ns").ok());  // unlink seg, rmdir log, rmdir ns: none synced
  std::set<std::string> outcomes;
  for (int seed = 0; seed < kSeeds; ++seed) {
    CrashOptions options;
    options.directories = DirectoryLoss::kUnordered;
    CrashReport report;
    auto crashed = fs.CrashState(fs.operation_count(), seed, options, &report);
    const bool has_ns = crashed->Exists("/data/ns"), has_log = crashed->Exists("/data/ns/log");
    const bool has_seg = crashed->Exists("/data/ns/log/seg");
    EXPECT_TRUE(has_ns || (!has_log && !has_seg)) << report.Summary();
    EXPECT_TRUE(has_log || !has_seg) << report.Summary();
    if (has_seg) {
      EXPECT_EQ(ContentsOf(*crashed, "/data/ns/log/seg"), "record");
    }
    outcomes.insert(std::string(has_ns ? "n" : "-") + (has_log ? "l" : "-") + (has_seg ? "s" : "-"));
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"nls", "nl-", "n--", "---"}));
}

TEST(PowerLossFileSystemTest, ACrashStateIsDeterministicInTheSeed) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  auto file = OpenOrDie(fs, "/d/f");
  ASSERT_TRUE(file->Append(std::string(5000, 'a')).ok());
  ASSERT_TRUE(fs.Rename("/d/f", "/d/g").ok());
  auto snapshot = [&](uint64_t seed) {
    CrashReport report;
    auto crashed = fs.CrashState(fs.operation_count(), seed, CrashOptions{}, &report);
    return ContentsOf(*crashed, "/d/f") + "|" + ContentsOf(*crashed, "/d/g") + "|" + report.Summary();
  };
  std::set<std::string> distinct;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    EXPECT_EQ(snapshot(seed), snapshot(seed));
    distinct.insert(snapshot(seed));
  }
  EXPECT_GT(distinct.size(), 5u);
}

TEST(PowerLossFileSystemTest, ACrashStateIsItselfADiskThatCanCrashAgain) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  ASSERT_TRUE(fs.WriteFileAtomically("/d/ckpt", "one").ok());
  auto crashed = fs.CrashState(fs.operation_count(), 7, CrashOptions{}, nullptr);
  EXPECT_EQ(crashed->operation_count(), 0u);
  EXPECT_EQ(ContentsOf(*crashed, "/d/ckpt"), "one");
  auto file = OpenOrDie(*crashed, "/d/ckpt");
  ASSERT_TRUE(file->Append(" two").ok());
  std::set<std::string> outcomes;
  for (int seed = 0; seed < kSeeds; ++seed) {
    outcomes.insert(ContentsOf(*crashed->CrashState(crashed->operation_count(), seed, CrashOptions{}, nullptr), "/d/ckpt"));
  }
  EXPECT_TRUE(outcomes.count("one"));
  EXPECT_TRUE(outcomes.count("one two"));
  for (const std::string& outcome : outcomes) EXPECT_EQ(outcome.substr(0, 3), "one");
}

TEST(PowerLossFileSystemTest, HoldNextSyncBlocksTheSyncUntilReleased) {
  PowerLossFileSystem fs;
  MakeDurableDirectory(fs, "/d");
  auto file = OpenOrDie(fs, "/d/f");
  ASSERT_TRUE(file->Append("x").ok());
  const uint64_t before = fs.operation_count();
  fs.HoldNextSync();
  std::thread syncer([&] { EXPECT_TRUE(file->Sync().ok()); });
  ASSERT_TRUE(fs.WaitForHeldSync(std::chrono::seconds(10)));
  EXPECT_EQ(fs.operation_count(), before) << "a held sync is not yet recorded";
  // Other work proceeds meanwhile.
  ASSERT_TRUE(fs.WriteFileAtomically("/d/other", "y").ok());
  fs.ReleaseHeldSync();
  syncer.join();
  EXPECT_EQ(fs.DescribeOperation(fs.operation_count() - 1), "#" + std::to_string(fs.operation_count() - 1) + " sync /d/f");
  // Only the next sync is held, and a hold no sync came for times out.
  ASSERT_TRUE(file->Sync().ok());
  fs.HoldNextSync();
  EXPECT_FALSE(fs.WaitForHeldSync(std::chrono::milliseconds(1)));
  fs.ReleaseHeldSync();
  ASSERT_TRUE(file->Sync().ok());
}

}  // namespace
}  // namespace wal::testing
