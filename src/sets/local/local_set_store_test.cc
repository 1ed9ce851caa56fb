// The local set store: chunks, states, recovery and retention, on the real
// file system.
#include "sets/local/local_set_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <future>

namespace wal::sets {
namespace {

class LocalSetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = JoinPath(::testing::TempDir(), "wal_local_set_store_test_" + std::to_string(::getpid()) + "_" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(directory_).ok());
  }
  void TearDown() override { (void)DefaultFileSystem()->RemoveAll(directory_); }

  static Status PersistWait(LocalSetStore& store, const std::string& id, std::vector<std::string> chunks) {
    std::promise<PersistOutcome> promise;
    store.Persist(id, std::move(chunks), [&](PersistOutcome outcome) { promise.set_value(std::move(outcome)); });
    return promise.get_future().get().status;
  }

  std::string directory_;
};

TEST_F(LocalSetStoreTest, FinishedSetsLetTheLogReclaimSegments) {
  LocalSetStore::Options options;
  options.directory = directory_;
  options.segment_bytes = 64 << 10;
  options.max_chunk_bytes = 8 << 10;
  auto opened = LocalSetStore::Open(DefaultFileSystem(), options);
  ASSERT_TRUE(opened.ok());
  auto& store = **opened;
  for (int i = 0; i < 200; ++i) {
    std::promise<PersistOutcome> promise;
    const std::string id = "set-" + std::to_string(i);
    store.Persist(id, {std::string(4000, 'x'), std::string(4000, 'y')}, [&](PersistOutcome outcome) {
      promise.set_value(std::move(outcome));
    });
    auto outcome = promise.get_future().get();
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    ASSERT_TRUE(store.SetState(id, SetState::kDone).ok());
  }
  EXPECT_GT(store.FirstStoredId(), 0u) << "segments of finished sets are deleted";
  auto live = store.ListLive();
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE(live->empty());
}

// The chunk size is config; recovery must not use it. A set stored with larger
// chunks stays whole after chunk_bytes is lowered (it used to be cut as a torn
// tail, or the log refused to open).
TEST_F(LocalSetStoreTest, LoweringChunkBytesKeepsStoredSetsWhole) {
  LocalSetStore::Options options;
  options.directory = directory_;
  options.segment_bytes = 64 << 10;
  options.max_chunk_bytes = 400 << 10;
  const std::string first(300 << 10, 'f');
  const std::string last(300 << 10, 'l');
  {
    auto opened = LocalSetStore::Open(DefaultFileSystem(), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ASSERT_TRUE(PersistWait(**opened, "first", {first}).ok());
    ASSERT_TRUE(PersistWait(**opened, "last", {last}).ok());
    ASSERT_TRUE((*opened)->Close().ok());
  }
  options.max_chunk_bytes = 64 << 10;
  auto reopened = LocalSetStore::Open(DefaultFileSystem(), options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto live = (*reopened)->ListLive();
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->size(), 2u);
  for (const auto& [id, bytes] : {std::pair{"first", &first}, std::pair{"last", &last}}) {
    auto loaded = (*reopened)->Load(id);
    ASSERT_TRUE(loaded.ok()) << id << ": " << loaded.status().ToString();
    EXPECT_EQ(loaded->serialized, *bytes) << id;
  }
  // New chunks are held to the new limit, and nothing is stored for them.
  Status refused = PersistWait(**reopened, "new", {std::string(200 << 10, 'n')});
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << refused.ToString();
  EXPECT_EQ((*reopened)->Load("new").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wal::sets
