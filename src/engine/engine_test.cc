// The engine over real namespaces on the embedded log, in one process: what a
// write answers, and what the admin reads return.
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <thread>

#include "modules/builtin_modules.h"
#include "queue/local/local_backend.h"

namespace wal::engine {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = JoinPath(::testing::TempDir(), "wal_engine_test_" + std::to_string(::getpid()) + "_" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(dir_).ok());
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(JoinPath(dir_, "ns")).ok());
  }
  void TearDown() override {
    engine_.reset();
    (void)DefaultFileSystem()->RemoveAll(dir_);
  }

  // Opens an engine over the namespace `yaml` (named "ns").
  void Open(const std::string& yaml, Role role = Role::kProducer) {
    engine_.reset();
    std::ofstream(JoinPath(JoinPath(dir_, "ns"), "ns.yaml")) << yaml;
    EngineOptions options{DefaultFileSystem(), JoinPath(dir_, "data"), JoinPath(dir_, "ns"), role, ""};
    const modules::ModuleRegistry& modules = modules::BuiltinModules();
    options.modules = {&modules.catalog(), &modules, &modules, &modules};
    auto created = Engine::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    engine_ = std::move(created).value();
  }
  std::string SqliteTarget() const { return "{type: sqlite, path: \"" + JoinPath(dir_, "target.db") + "\"}"; }

  WriteOutcome Write(const v1::WriteToLogRequest& request) {
    std::promise<WriteOutcome> done;
    engine_->WriteToLog(request, [&](WriteOutcome outcome) { done.set_value(std::move(outcome)); });
    return done.get_future().get();
  }
  static v1::WriteToLogRequest Put(const std::string& key, const std::string& value) {
    v1::WriteToLogRequest request;
    request.set_namespace_("ns");
    v1::Mutation* mutation = request.mutable_payload()->mutable_mutation();
    mutation->set_op(v1::Mutation::PUT);
    mutation->set_key(key);
    mutation->set_value(value);
    return request;
  }
  uint64_t LogEnd() {
    auto statuses = engine_->NamespaceStatuses("ns");
    EXPECT_TRUE(statuses.ok());
    return statuses.ok() && !statuses->empty() ? statuses->front().log_end() : 0;
  }

  void ExpectRejectedAndNothingWritten(const v1::WriteToLogRequest& request) {
    const uint64_t end = LogEnd();
    WriteOutcome outcome = Write(request);
    EXPECT_EQ(outcome.rejection.code(), StatusCode::kInvalidArgument)
        << outcome.rejection.ToString() << " / durable " << outcome.response.durable() << " "
        << outcome.response.message();
    EXPECT_EQ(LogEnd(), end) << "nothing is written";
  }

  std::string dir_;
  std::unique_ptr<Engine> engine_;
};

// A record that can never be stored (its payload fits, but the record around
// it does not) is a rejection, not a FALSE: FALSE means "safe to retry", and a
// retry could never succeed.
TEST_F(EngineTest, ATargetOverrideThatCanNeverFitIsRejectedAsInvalidArgument) {
  Open("name: ns\nmax_payload_bytes: 1024\ntarget: " + SqliteTarget() + "\n");
  v1::WriteToLogRequest request = Put("k", "v");
  request.mutable_target()->set_type("sqlite");
  (*request.mutable_target()->mutable_settings()->mutable_fields())["path"].set_string_value(
      JoinPath(dir_, std::string(100 << 10, 'p')));
  ExpectRejectedAndNothingWritten(request);
  // The same write with a small override is stored.
  (*request.mutable_target()->mutable_settings()->mutable_fields())["path"].set_string_value(
      JoinPath(dir_, "other.db"));
  WriteOutcome outcome = Write(request);
  ASSERT_TRUE(outcome.rejection.ok()) << outcome.rejection.ToString();
  EXPECT_EQ(outcome.response.durable(), v1::TRUE) << outcome.response.message();
}

TEST_F(EngineTest, ASetMarkerThatCanNeverFitIsRejectedAsInvalidArgument) {
  Open("name: ns\nmax_payload_bytes: 1024\ntarget: " + SqliteTarget() + "\ndurable_storage: {type: local}\n");
  v1::WriteToLogRequest request;
  request.set_namespace_("ns");
  auto* set = request.mutable_payload()->mutable_mutation_set();
  // The marker keeps every mutation's key (not its value): 100 KiB of keys.
  for (int i = 0; i < 100; ++i) {
    v1::Mutation* mutation = set->add_mutations();
    mutation->set_op(v1::Mutation::PUT);
    mutation->set_key(std::to_string(i) + std::string(1024, 'k'));
    mutation->set_value("v");
    mutation->set_sequence(static_cast<uint64_t>(i));
  }
  ExpectRejectedAndNothingWritten(request);
}

// 10,000 entries of 4 MiB could be asked for in one call; a page now stops at
// kAdminPageBytes of records, and paging from the last id + 1 reads the rest.
TEST_F(EngineTest, ReadLogPagesStopAtTheByteCapAndContinue) {
  Open("name: ns\n");
  constexpr size_t kEntryBytes = 300 << 10;
  for (int i = 0; i < 10; ++i) {
    v1::WriteToLogRequest request;
    request.set_namespace_("ns");
    request.mutable_payload()->set_opaque(std::string(kEntryBytes, static_cast<char>('a' + i)));
    WriteOutcome outcome = Write(request);
    ASSERT_EQ(outcome.response.durable(), v1::TRUE) << outcome.rejection.ToString() << outcome.response.message();
  }
  auto first = engine_->ReadLog("ns", 0, 10000);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 3u) << "three 300 KiB records fit in 1 MiB, four do not";
  std::vector<uint64_t> ids;
  uint64_t next = 0;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = engine_->ReadLog("ns", next, 10000);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& at : *page) ids.push_back(at.id);
    next = page->back().id + 1;
  }
  EXPECT_EQ(ids.size(), 10u);
  // One entry over the cap still comes back alone, so paging always advances.
  auto one = engine_->ReadLog("ns", ids[0], 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

// A stored record that is not a LogRecord goes to the DLQ with its own bytes,
// not as an empty record, and the admin reads show them as `unparsed`.
TEST_F(EngineTest, AnUnparsableRecordIsDeadLetteredWithItsBytes) {
  const std::string garbage(300 << 10, '\xff');
  {
    config::NamespaceConfig config;
    config.name = "ns";
    const std::string data = JoinPath(JoinPath(JoinPath(dir_, "data"), "namespaces"), "ns");
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(data).ok());
    auto backend = queue::local::OpenLocalBackend(queue::BackendContext{DefaultFileSystem(), data, ""}, config);
    ASSERT_TRUE(backend.ok()) << backend.status().ToString();
    for (int i = 0; i < 5; ++i) {
      std::promise<queue::AppendOutcome> appended;
      (*backend)->Append(queue::QueueEntry{garbage, {}, ""},
                         [&](const queue::AppendOutcome& outcome) { appended.set_value(outcome); });
      ASSERT_EQ(appended.get_future().get().durability, Durability::kTrue);
    }
    ASSERT_TRUE((*backend)->Close().ok());
  }
  Open("name: ns\ntarget: " + SqliteTarget() + "\n", Role::kBoth);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto statuses = engine_->NamespaceStatuses("ns");
    ASSERT_TRUE(statuses.ok());
    if (statuses->front().dead_letters() == 5 && statuses->front().pending() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<Engine::RecordAt> dead;
  uint64_t next = 0;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = engine_->ListDeadLetters("ns", next, 10000);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    EXPECT_LE(page->size(), 3u) << "a DLQ page stops at the byte cap too";
    for (auto& at : *page) dead.push_back(std::move(at));
    next = dead.back().id + 1;
  }
  ASSERT_EQ(dead.size(), 5u);
  for (const auto& at : dead) EXPECT_EQ(at.unparsed, garbage) << "dead letter " << at.id;
}

}  // namespace
}  // namespace wal::engine
