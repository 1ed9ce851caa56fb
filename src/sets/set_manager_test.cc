// Mutation sets without any server: the local set store (chunks, progress,
// states, recovery, retention) and the SetManager (validation, chunking and
// reassembly, resuming from progress, per-mutation status, key order).
#include "sets/set_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>
#include <random>

#include "modules/builtin_modules.h"
#include "sets/local/local_set_store.h"

namespace wal::sets {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "wal_sets_test_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Records what it applied; fails the mutations it is told to.
class RecordingTarget final : public target::Target {
 public:
  target::ApplyResult ApplyMutation(const v1::Mutation& mutation, const target::DeliveryContext&) override {
    std::lock_guard lock(mutex);
    if (fail_sequences.contains(mutation.sequence())) {
      return permanent ? target::ApplyResult::Permanent("refused") : target::ApplyResult::Retryable("down");
    }
    applied.push_back(mutation.sequence());
    if (mutation.op() == v1::Mutation::PUT) {
      items[mutation.key()] = mutation.value();
    } else {
      items.erase(mutation.key());
    }
    return target::ApplyResult::Ok();
  }
  target::ApplyResult DeliverOpaque(std::string_view, const target::DeliveryContext&) override {
    return target::ApplyResult::Permanent("no");
  }
  Status ValidatePayload(const v1::Payload&) const override { return Status::Ok(); }
  Status Probe() override { return Status::Ok(); }

  std::mutex mutex;
  std::vector<uint64_t> applied;
  std::map<std::string, std::string> items;
  std::set<uint64_t> fail_sequences;
  bool permanent = false;
};

config::NamespaceConfig Namespace() {
  config::NamespaceConfig config;
  config.name = "sets";
  const config::ModuleCatalog& modules = modules::BuiltinModules().catalog();
  config.target = config::TargetFromJson(R"({"type": "sqlite", "path": "/tmp/unused.db"})", "target", modules).value();
  config.targets["cache"] =
      config::TargetFromJson(R"({"type": "redis", "address": "127.0.0.1:1"})", "targets.cache", modules).value();
  config.durable_storage.chunk_bytes = 4096;
  config::FillNamespaceDefaults(&config);
  return config;
}

v1::Mutation Put(uint64_t sequence, const std::string& key, const std::string& value, const std::string& target = "") {
  v1::Mutation mutation;
  mutation.set_op(v1::Mutation::PUT);
  mutation.set_key(key);
  mutation.set_value(value);
  mutation.set_sequence(sequence);
  mutation.set_target(target);
  return mutation;
}

v1::LogRecord SetRecord(const std::vector<v1::Mutation>& mutations) {
  v1::LogRecord record;
  record.set_namespace_("sets");
  for (const auto& mutation : mutations) *record.mutable_payload()->mutable_mutation_set()->add_mutations() = mutation;
  return record;
}

class SetManagerTest : public ::testing::Test {
 protected:
  void Open() {
    manager_.reset();
    auto opened = SetManager::Open(config_, modules::BuiltinModules(), DefaultFileSystem(), dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    manager_ = std::move(opened).value();
  }
  v1::LogRecord Persist(const std::vector<v1::Mutation>& mutations) {
    std::promise<Result<v1::LogRecord>> promise;
    manager_->Persist(SetRecord(mutations), [&](Result<v1::LogRecord> marker) { promise.set_value(std::move(marker)); });
    auto marker = promise.get_future().get();
    EXPECT_TRUE(marker.ok()) << marker.status().ToString();
    return marker.ok() ? *marker : v1::LogRecord();
  }
  SetManager::ApplyReport Apply(const v1::LogRecord& marker) {
    auto resolve = [this](const std::string& name) -> Result<std::shared_ptr<target::Target>> {
      if (name.empty()) return std::shared_ptr<target::Target>(default_target_);
      if (name == "cache") return std::shared_ptr<target::Target>(cache_target_);
      return NotFound("no target " + name);
    };
    target::DeliveryContext context;
    context.namespace_name = "sets";
    context.entry_id = 1;
    context.attempt = 1;
    return manager_->Apply(marker, resolve, context);
  }

  TempDir dir_;
  config::NamespaceConfig config_ = Namespace();
  std::unique_ptr<SetManager> manager_;
  std::shared_ptr<RecordingTarget> default_target_ = std::make_shared<RecordingTarget>();
  std::shared_ptr<RecordingTarget> cache_target_ = std::make_shared<RecordingTarget>();
};

TEST_F(SetManagerTest, ValidateRefusesBadSets) {
  auto validate = [&](const std::vector<v1::Mutation>& mutations, uint64_t bytes = 100) {
    return SetManager::Validate(SetRecord(mutations).payload().mutation_set(), config_, bytes);
  };
  EXPECT_NE(validate({}).message().find("at least one mutation"), std::string::npos);
  EXPECT_NE(validate({Put(1, "a", "x"), Put(1, "b", "y")}).message().find("used twice"), std::string::npos);
  Status unknown = validate({Put(1, "a", "x", "nosuch")});
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("'nosuch' is not a target"), std::string::npos) << unknown.message();
  EXPECT_NE(unknown.message().find("cache"), std::string::npos) << "names the targets it has";
  EXPECT_NE(validate({Put(1, "a", "x")}, config_.durable_storage.max_set_bytes + 1).message().find("max_set_bytes"),
            std::string::npos);
  config_.durable_storage.max_mutations = 2;
  EXPECT_NE(validate({Put(1, "a", ""), Put(2, "b", ""), Put(3, "c", "")}).message().find("max_mutations"),
            std::string::npos);
  EXPECT_TRUE(validate({Put(2, "a", "x", "cache"), Put(1, "b", "y")}).ok());
}

TEST_F(SetManagerTest, ChunksReassembleByteForByteAndApplyInSequenceOrder) {
  Open();
  std::string big(50'000, '\0');
  std::mt19937 random(7);
  for (char& c : big) c = static_cast<char>(random());
  auto marker = Persist({Put(30, "k3", "three"), Put(10, "big", big), Put(20, "k2", "two", "cache")});
  EXPECT_GT(marker.set_ref().chunks(), 10u) << "a 50 KB set in 4 KiB chunks";
  for (const auto& mutation : marker.payload().mutation_set().mutations()) EXPECT_TRUE(mutation.value().empty());
  EXPECT_TRUE(manager_->key_order().Holds(marker.set_ref().set_id()));

  auto report = Apply(marker);
  ASSERT_TRUE(report.result.ok()) << report.result.reason;
  EXPECT_EQ(default_target_->applied, (std::vector<uint64_t>{10, 30}));
  EXPECT_EQ(cache_target_->applied, (std::vector<uint64_t>{20}));
  EXPECT_EQ(default_target_->items["big"], big);
  EXPECT_FALSE(manager_->key_order().Holds(marker.set_ref().set_id()));
  // Done sets are dropped: a repeated marker completes without applying again.
  EXPECT_EQ(manager_->store().Load(marker.set_ref().set_id()).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Apply(marker).result.ok());
  EXPECT_EQ(default_target_->applied.size(), 2u);
}

TEST_F(SetManagerTest, ARetryResumesAtTheFirstMutationNotApplied) {
  Open();
  auto marker = Persist({Put(1, "a", "1"), Put(2, "b", "2", "cache"), Put(3, "c", "3")});
  cache_target_->fail_sequences = {2};
  auto failed = Apply(marker);
  ASSERT_EQ(failed.result.outcome, target::ApplyOutcome::kRetryable);
  EXPECT_NE(failed.result.reason.find("mutation sequence 2 (target cache)"), std::string::npos) << failed.result.reason;
  ASSERT_EQ(failed.statuses.size(), 3u);
  EXPECT_EQ(failed.statuses[0].state(), v1::MutationStatus::APPLIED);
  EXPECT_EQ(failed.statuses[1].state(), v1::MutationStatus::FAILED);
  EXPECT_EQ(failed.statuses[2].state(), v1::MutationStatus::NOT_ATTEMPTED);

  // Progress survives a reopen (the store is rebuilt from its log).
  Open();
  auto stored = manager_->store().Load(marker.set_ref().set_id());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->applied_through, 1u);
  manager_->Recover({marker}, {}, /*complete=*/true);
  EXPECT_TRUE(manager_->key_order().Holds(marker.set_ref().set_id()));

  cache_target_->fail_sequences.clear();
  ASSERT_TRUE(Apply(marker).result.ok());
  EXPECT_EQ(default_target_->applied, (std::vector<uint64_t>{1, 3})) << "sequence 1 was not applied twice";
  EXPECT_EQ(cache_target_->applied, (std::vector<uint64_t>{2}));
}

TEST_F(SetManagerTest, DeadLetteringKeepsTheSetAndReportsEachMutation) {
  Open();
  auto marker = Persist({Put(1, "a", "1"), Put(2, "b", "2")});
  default_target_->fail_sequences = {2};
  default_target_->permanent = true;
  auto report = Apply(marker);
  ASSERT_EQ(report.result.outcome, target::ApplyOutcome::kPermanent);
  manager_->OnDeadLetter(&marker, report.statuses);
  ASSERT_EQ(marker.set_status_size(), 2);
  EXPECT_EQ(marker.set_status(0).state(), v1::MutationStatus::APPLIED);
  EXPECT_EQ(marker.set_status(1).state(), v1::MutationStatus::FAILED);
  EXPECT_NE(marker.set_status(1).error().find("refused"), std::string::npos);
  EXPECT_FALSE(manager_->key_order().Holds(marker.set_ref().set_id())) << "a dead set holds back no one";
  // Redriven: it resumes at sequence 2.
  default_target_->fail_sequences.clear();
  ASSERT_TRUE(Apply(marker).result.ok());
  EXPECT_EQ(default_target_->applied, (std::vector<uint64_t>{1, 2}));
}

TEST_F(SetManagerTest, ALaterSetSharingAKeyWaitsForTheEarlierOne) {
  Open();
  auto first = Persist({Put(1, "shared", "old"), Put(2, "mine", "x")});
  auto second = Persist({Put(1, "shared", "new")});
  auto unrelated = Persist({Put(1, "other", "y")});
  EXPECT_LT(first.set_ref().order(), second.set_ref().order());
  EXPECT_TRUE(Apply(second).deferred);
  EXPECT_FALSE(Apply(unrelated).deferred);
  ASSERT_TRUE(Apply(first).result.ok());
  auto now = Apply(second);
  EXPECT_FALSE(now.deferred);
  ASSERT_TRUE(now.result.ok());
  EXPECT_EQ(default_target_->items["shared"], "new");
}

TEST_F(SetManagerTest, RecoveryDropsSetsNoMarkerNames) {
  Open();
  auto kept = Persist({Put(1, "a", "1")});
  auto orphan = Persist({Put(1, "b", "2")});
  Open();
  manager_->Recover({kept}, {}, /*complete=*/true);
  EXPECT_TRUE(manager_->store().Load(kept.set_ref().set_id()).ok());
  EXPECT_EQ(manager_->store().Load(orphan.set_ref().set_id()).status().code(), StatusCode::kNotFound);
  Open();
  EXPECT_EQ(manager_->store().Load(orphan.set_ref().set_id()).status().code(), StatusCode::kNotFound)
      << "the drop is durable";
}

TEST(LocalSetStoreTest, FinishedSetsLetTheLogReclaimSegments) {
  TempDir dir;
  LocalSetStore::Options options;
  options.directory = dir.path() + "/sets";
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

}  // namespace
}  // namespace wal::sets
