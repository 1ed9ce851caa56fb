#include "common/fault_injecting_file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace wal {
namespace {

class FaultInjectingFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = JoinPath(::testing::TempDir(), "fifs_test_" + std::to_string(::getpid()) + "_" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(directory_).ok());
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(directory_).ok());
  }
  void TearDown() override { (void)DefaultFileSystem()->RemoveAll(directory_); }

  std::string Path(const std::string& name) const { return JoinPath(directory_, name); }
  std::string Contents(const std::string& name) {
    auto contents = DefaultFileSystem()->ReadFile(Path(name));
    EXPECT_TRUE(contents.ok()) << contents.status().ToString();
    return contents.ok() ? contents.value() : std::string();
  }

  std::string directory_;
  FaultInjectingFileSystem fs_{DefaultFileSystem()};
};

TEST_F(FaultInjectingFileSystemTest, PassesThroughWhenNoKnobIsSet) {
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("hello").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ((*file)->Size(), 5u);
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Contents("a"), "hello");
  EXPECT_EQ(fs_.syncs(), 1u);
  EXPECT_EQ(fs_.appends(), 1u);
  EXPECT_EQ(fs_.injected_failures(), 0u);
}

TEST_F(FaultInjectingFileSystemTest, FailNextSyncsFailsExactlyThatMany) {
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  fs_.FailNextSyncs(2);
  Status first = (*file)->Sync();
  EXPECT_EQ(first.code(), StatusCode::kIOError);
  EXPECT_NE(first.message().find("injected fsync failure"), std::string::npos);
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(fs_.syncs(), 1u);
  EXPECT_EQ(fs_.injected_failures(), 2u);
}

TEST_F(FaultInjectingFileSystemTest, NoSpaceWritesNothing) {
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("keep").ok());
  fs_.SetNoSpace(true);
  EXPECT_EQ((*file)->Append("lost").code(), StatusCode::kNoSpace);
  EXPECT_EQ((*file)->Size(), 4u);
  EXPECT_EQ(fs_.WriteFileAtomically(Path("b"), "x").code(), StatusCode::kNoSpace);
  EXPECT_FALSE(fs_.Exists(Path("b")));
  fs_.SetNoSpace(false);
  ASSERT_TRUE((*file)->Append("more").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Contents("a"), "keepmore");
}

TEST_F(FaultInjectingFileSystemTest, ShortWriteWritesPrefixOnceThenFails) {
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  fs_.ShortWriteNext(3);
  Status status = (*file)->Append("abcdef");
  EXPECT_EQ(status.code(), StatusCode::kIOError);
  EXPECT_EQ((*file)->Size(), 3u);
  ASSERT_TRUE((*file)->Append("XYZ").ok());  // one-shot: the next append is whole
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Contents("a"), "abcXYZ");
}

TEST_F(FaultInjectingFileSystemTest, FailTruncateLeavesFileAlone) {
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abcdef").ok());
  fs_.FailTruncate(true);
  EXPECT_EQ((*file)->Truncate(2).code(), StatusCode::kIOError);
  EXPECT_EQ((*file)->Size(), 6u);
  fs_.FailTruncate(false);
  ASSERT_TRUE((*file)->Truncate(2).ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Contents("a"), "ab");
}

TEST_F(FaultInjectingFileSystemTest, NoSpaceAlsoFailsPreallocate) {
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  fs_.SetNoSpace(true);
  EXPECT_EQ((*file)->Preallocate(1 << 20).code(), StatusCode::kNoSpace);
  fs_.SetNoSpace(false);
  EXPECT_TRUE((*file)->Preallocate(1 << 20).ok());
  EXPECT_EQ(fs_.preallocations(), 1u);
}

TEST_F(FaultInjectingFileSystemTest, FailNextRemovesFailsExactlyThatMany) {
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(fs_.WriteFileAtomically(Path(name), "x").ok());
  fs_.FailNextRemoves(2);
  Status first = fs_.RemoveFile(Path("a"));
  EXPECT_EQ(first.code(), StatusCode::kIOError);
  EXPECT_NE(first.message().find("injected unlink failure"), std::string::npos);
  EXPECT_FALSE(fs_.RemoveFile(Path("b")).ok());
  EXPECT_TRUE(fs_.Exists(Path("a")));
  EXPECT_TRUE(fs_.Exists(Path("b")));
  EXPECT_TRUE(fs_.RemoveFile(Path("c")).ok());
  EXPECT_FALSE(fs_.Exists(Path("c")));
  EXPECT_EQ(fs_.injected_failures(), 2u);
}

// The space model: appends and preallocations take space, truncating below a
// preallocation and removing or replacing files give it back, and nothing is
// written once the limit would be passed.
TEST_F(FaultInjectingFileSystemTest, SpaceLimitCountsWhatFilesHold) {
  fs_.SetSpaceLimit(1000);
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(std::string(100, 'x')).ok());
  EXPECT_EQ(fs_.used_bytes(), 100u);
  ASSERT_TRUE((*file)->Preallocate(600).ok());
  EXPECT_EQ(fs_.used_bytes(), 600u);  // max(size, preallocated)
  EXPECT_EQ(fs_.allocated_bytes(Path("a")), 600u);
  ASSERT_TRUE((*file)->Append(std::string(400, 'y')).ok());  // inside the preallocation: free
  EXPECT_EQ(fs_.used_bytes(), 600u);
  EXPECT_EQ(fs_.Stat(Path("a"))->size, 500u);

  ASSERT_TRUE(fs_.WriteFileAtomically(Path("b"), std::string(300, 'b')).ok());
  EXPECT_EQ(fs_.used_bytes(), 900u);
  EXPECT_EQ((*file)->Append(std::string(201, 'z')).code(), StatusCode::kNoSpace);  // 701 - 600 held > 100 free
  EXPECT_EQ((*file)->Size(), 500u);
  EXPECT_EQ((*file)->Preallocate(2000).code(), StatusCode::kNoSpace);
  EXPECT_EQ(fs_.WriteFileAtomically(Path("c"), std::string(200, 'c')).code(), StatusCode::kNoSpace);
  EXPECT_FALSE(fs_.Exists(Path("c")));
  // Replacing b with a smaller file frees the difference.
  ASSERT_TRUE(fs_.WriteFileAtomically(Path("b"), std::string(50, 'b')).ok());
  EXPECT_EQ(fs_.used_bytes(), 650u);

  // ftruncate below the preallocation drops it, as on Linux.
  ASSERT_TRUE((*file)->Truncate(200).ok());
  EXPECT_EQ(fs_.allocated_bytes(Path("a")), 200u);
  EXPECT_EQ(fs_.used_bytes(), 250u);
  ASSERT_TRUE(fs_.Rename(Path("b"), Path("d")).ok());
  EXPECT_EQ(fs_.allocated_bytes(Path("d")), 50u);
  ASSERT_TRUE(fs_.RemoveFile(Path("d")).ok());
  EXPECT_EQ(fs_.used_bytes(), 200u);
  ASSERT_TRUE((*file)->Append(std::string(800, 'w')).ok());
  EXPECT_EQ(fs_.used_bytes(), 1000u);
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(fs_.RemoveAll(directory_).ok());
  EXPECT_EQ(fs_.used_bytes(), 0u);
  fs_.Reset();
}

TEST_F(FaultInjectingFileSystemTest, ShortWriteCountsOnlyWhatWasWritten) {
  fs_.SetSpaceLimit(100);
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  fs_.ShortWriteNext(10);
  EXPECT_EQ((*file)->Append(std::string(50, 'x')).code(), StatusCode::kIOError);
  EXPECT_EQ(fs_.used_bytes(), 10u);
  ASSERT_TRUE((*file)->Append(std::string(90, 'y')).ok());
  EXPECT_EQ((*file)->Append("!").code(), StatusCode::kNoSpace);
}

TEST_F(FaultInjectingFileSystemTest, ResetClearsKnobs) {
  auto file = fs_.OpenAppendable(Path("a"));
  ASSERT_TRUE(file.ok());
  fs_.FailNextSyncs(5);
  fs_.SetNoSpace(true);
  fs_.ShortWriteNext(1);
  fs_.FailTruncate(true);
  fs_.FailNextRemoves(3);
  fs_.SetSpaceLimit(0);
  fs_.Reset();
  EXPECT_TRUE((*file)->Append("abc").ok());
  EXPECT_TRUE(fs_.WriteFileAtomically(Path("b"), "x").ok());
  EXPECT_TRUE(fs_.RemoveFile(Path("b")).ok());
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_TRUE((*file)->Truncate(1).ok());
}

TEST_F(FaultInjectingFileSystemTest, ForwardsDirectoryOperations) {
  ASSERT_TRUE(fs_.WriteFileAtomically(Path("x"), "1").ok());
  ASSERT_TRUE(fs_.Rename(Path("x"), Path("y")).ok());
  auto names = fs_.ListDirectory(directory_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names.value(), std::vector<std::string>{"y"});
  ASSERT_TRUE(fs_.SyncDirectory(directory_).ok());
  ASSERT_TRUE(fs_.RemoveFile(Path("y")).ok());
  EXPECT_FALSE(fs_.Exists(Path("y")));
}

TEST_F(FaultInjectingFileSystemTest, StatSeesRewritesAndReplacementsThroughSymlinks) {
  ASSERT_TRUE(fs_.WriteFileAtomically(Path("a"), "one").ok());
  ASSERT_EQ(::symlink(Path("a").c_str(), Path("link").c_str()), 0);
  auto first = fs_.Stat(Path("link"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size, 3u);
  EXPECT_GT(first->mtime_ns, 0);
  auto direct = fs_.Stat(Path("a"));
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct.value(), first.value());  // the link's target, not the link
  // WriteFileAtomically renames a new file over the old one: a new inode.
  ASSERT_TRUE(fs_.WriteFileAtomically(Path("a"), "two").ok());
  auto second = fs_.Stat(Path("link"));
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->inode, first->inode);
  EXPECT_EQ(fs_.Stat(Path("missing")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wal
