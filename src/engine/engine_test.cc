// The engine over real namespaces on the embedded log, in one process: what a
// write answers, and what the admin reads return.
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <future>

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

}  // namespace
}  // namespace wal::engine
