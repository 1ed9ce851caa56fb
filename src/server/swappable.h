// Swappable<T>: an immutable value that one thread replaces while many others
// read it (the tokens in force, the shard map in force).
//
// Readers take a snapshot with Get() and use it for as long as they need it: a
// later Set() never changes or frees a snapshot already taken, so a request
// sees one version from start to end. Get() is a shared_ptr copy under a lock
// held for a reference-count increment, cheap enough for every request.
//
// Threading: Get() and Set() are safe from any thread. Ownership: the values
// are shared; the last snapshot to go frees a replaced value.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

namespace wal::server {

template <typename T>
class Swappable {
 public:
  explicit Swappable(std::shared_ptr<const T> initial = nullptr) : value_(std::move(initial)) {}
  Swappable(const Swappable&) = delete;
  Swappable& operator=(const Swappable&) = delete;

  std::shared_ptr<const T> Get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

  void Set(std::shared_ptr<const T> value) {
    std::shared_ptr<const T> replaced;
    {
      std::lock_guard lock(mutex_);
      replaced = std::exchange(value_, std::move(value));
    }
    // `replaced` may be the last reference: free it after unlocking so readers
    // never wait on a destructor.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace wal::server
