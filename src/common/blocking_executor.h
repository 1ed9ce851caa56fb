// A fixed pool of threads running queued tasks: where blocking target calls go
// so that they never run on gRPC or HTTP threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wal::engine {

class BlockingExecutor {
 public:
  explicit BlockingExecutor(size_t threads);
  ~BlockingExecutor();  // runs every queued task, then joins

  // Queues `task`; returns false (and drops it) once shutdown has begun.
  bool Submit(std::function<void()> task);
  void Shutdown();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wal::engine
