// A fixed pool of threads running queued tasks: where blocking calls (a
// target's, a set store's) go so that they never run on gRPC, HTTP or commit
// threads.
//
// Threading: Submit and Shutdown may be called from any thread, Shutdown more
// than once. A task runs on one of the pool's threads, in queue order of start.
// Failure: a task must not throw; one that does is caught on the pool thread
// (so the process survives) and the exception is dropped. Submit after
// Shutdown has begun refuses the task (returns false) without running it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wal {

class BlockingExecutor {
 public:
  explicit BlockingExecutor(size_t threads);
  ~BlockingExecutor();  // runs every queued task, then joins
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  // Queues `task`; returns false (and drops it) once shutdown has begun.
  bool Submit(std::function<void()> task);
  // Runs every task already queued, then joins the threads.
  void Shutdown();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wal
