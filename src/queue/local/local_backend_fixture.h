// The shared fixture of the local backend's tests: a fresh data directory per
// test, an open backend, and blocking helpers around its callback API.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "log/log.h"
#include "queue/local/faulty_log.h"
#include "queue/local/local_backend.h"
#include "queue/local/local_backend_impl.h"
#include "queue/local/local_config.h"

namespace wal::queue::local {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

class LocalBackendFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = JoinPath(::testing::TempDir(), "wal_local_backend_test_" + std::to_string(::getpid()) + "_" +
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(DefaultFileSystem()->RemoveAll(data_dir_).ok());
    ASSERT_TRUE(DefaultFileSystem()->CreateDirectories(data_dir_).ok());
    config_.name = "test";
    config_.backend.settings.Mutable<LocalBackendConfig>().preallocate = false;
    options_.copy_forward_interval = 0ms;  // tests drive copy-forward through RunMaintenance
  }
  void TearDown() override {
    backend_.reset();
    (void)DefaultFileSystem()->RemoveAll(data_dir_);
  }

  void Open() {
    backend_.reset();
    main_faults_ = dlq_faults_ = nullptr;
    BackendContext context{file_system_, data_dir_, ""};
    auto opened = OpenLocalBackend(context, config_, options_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    backend_ = std::move(opened).value();
  }
  // Like Open, over logs wrapped in FaultyLog (main_faults_, dlq_faults_; they
  // live as long as the backend).
  void OpenWithFaultyLogs() {
    backend_.reset();
    auto open_log = [&](const std::string& sub) -> std::unique_ptr<FaultyLog> {
      log::LogOptions options;
      options.directory = JoinPath(data_dir_, sub);
      options.segment_bytes = config_.backend.settings.Get<LocalBackendConfig>().segment_bytes;
      options.preallocate = false;
      options.max_record_bytes = kLogRecordFormatLimit;
      auto opened = log::Log::Open(file_system_, options, nullptr);
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      return opened.ok() ? std::make_unique<FaultyLog>(std::move(opened).value()) : nullptr;
    };
    auto main_log = open_log("log");
    auto dlq_log = open_log("dlq");
    ASSERT_TRUE(main_log && dlq_log);
    main_faults_ = main_log.get();
    dlq_faults_ = dlq_log.get();
    auto started = StartLocalBackend(config_.name, std::move(main_log), std::move(dlq_log), options_, LocalSettings{});
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    backend_ = std::move(started).value();
  }
  void Reopen() {
    ASSERT_TRUE(backend_->Close().ok());
    Open();
  }

  static QueueEntry Entry(std::string record, TimePoint due, std::string key = "") {
    return QueueEntry{std::move(record), due, std::move(key)};
  }

  uint64_t AppendOrDie(QueueEntry entry) {
    std::promise<AppendOutcome> done;
    auto future = done.get_future();
    backend_->Append(std::move(entry), [&](const AppendOutcome& outcome) { done.set_value(outcome); });
    AppendOutcome outcome = future.get();
    EXPECT_EQ(outcome.durability, Durability::kTrue) << outcome.status.ToString();
    return outcome.id;
  }

  // Appends many, `wave` at a time without waiting for each one (one wave is
  // usually one group commit, and a group never spans segments).
  void AppendMany(uint64_t count, const std::function<QueueEntry(uint64_t)>& make, uint64_t wave = UINT64_MAX) {
    std::mutex mutex;
    std::condition_variable cv;
    uint64_t done = 0, failed = 0;
    for (uint64_t i = 0; i < count; ++i) {
      backend_->Append(make(i), [&](const AppendOutcome& outcome) {
        std::lock_guard lock(mutex);
        ++done;
        if (outcome.durability != Durability::kTrue) ++failed;
        cv.notify_all();
      });
      if ((i + 1) % wave == 0) {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return done == i + 1; });
      }
    }
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done == count; });
    ASSERT_EQ(failed, 0u);
  }

  std::vector<Delivery> PollOrDie(size_t max, std::chrono::milliseconds wait = 0ms) {
    auto polled = backend_->Poll(max, wait);
    EXPECT_TRUE(polled.ok()) << polled.status().ToString();
    return polled.ok() ? std::move(polled).value() : std::vector<Delivery>{};
  }

  template <typename Fn>
  static Status Wait(Fn&& start) {
    std::promise<Status> done;
    auto future = done.get_future();
    start([&](const Status& status) { done.set_value(status); });
    return future.get();
  }
  Status CompleteWait(const Delivery& d) {
    return Wait([&](StatusCallback cb) { backend_->Complete(d, std::move(cb)); });
  }
  Status RescheduleWait(const Delivery& d, QueueEntry replacement) {
    return Wait([&](StatusCallback cb) { backend_->Reschedule(d, std::move(replacement), std::move(cb)); });
  }
  Status DeadLetterWait(const Delivery& d, std::string record) {
    return Wait([&](StatusCallback cb) { backend_->DeadLetter(d, std::move(record), std::move(cb)); });
  }

  std::vector<StoredEntry> DeadLetters() {
    auto listed = backend_->ListDeadLetters(0, 1000000);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    return listed.ok() ? std::move(listed).value() : std::vector<StoredEntry>{};
  }

  size_t SegmentFiles(const std::string& sub) {
    auto names = DefaultFileSystem()->ListDirectory(JoinPath(data_dir_, sub));
    EXPECT_TRUE(names.ok());
    return static_cast<size_t>(std::count_if(names->begin(), names->end(), [](const std::string& n) {
      return n.size() > 4 && n.substr(n.size() - 4) == ".seg";
    }));
  }

  std::string data_dir_;
  FileSystem* file_system_ = DefaultFileSystem();
  FaultyLog* main_faults_ = nullptr;
  FaultyLog* dlq_faults_ = nullptr;
  config::NamespaceConfig config_;
  LocalBackendOptions options_;
  std::unique_ptr<LocalBackend> backend_;
};

}  // namespace wal::queue::local
