#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <utility>

namespace wal {
namespace {

class FlockFileLock final : public FileLock {
 public:
  explicit FlockFileLock(int fd) : fd_(fd) {}
  // Closing the last descriptor of the open file description releases the flock.
  ~FlockFileLock() override { ::close(fd_); }

 private:
  const int fd_;
};

// What the holder wrote: "pid 42", or "" when the file says nothing usable.
std::string ReadHolder(int fd) {
  char buffer[32];
  ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return "";
  std::string pid;
  for (ssize_t i = 0; i < n && buffer[i] >= '0' && buffer[i] <= '9'; ++i) pid += buffer[i];
  return pid.empty() ? "" : "pid " + pid;
}

class InProcessFileLock final : public FileLock {
 public:
  explicit InProcessFileLock(std::function<void()> release) : release_(std::move(release)) {}
  ~InProcessFileLock() override { release_(); }

 private:
  std::function<void()> release_;
};

}  // namespace

Status LockHeldStatus(const std::string& path, const std::string& holder) {
  return Unavailable(path + " is locked: held by another process" + (holder.empty() ? "" : " (" + holder + ")"));
}

Result<std::unique_ptr<FileLock>> LockFileWithFlock(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  int locked;
  do {
    locked = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (locked != 0 && errno == EINTR);
  if (locked != 0) {
    const int saved = errno;
    std::string holder = saved == EWOULDBLOCK ? ReadHolder(fd) : "";
    ::close(fd);
    if (saved == EWOULDBLOCK) return LockHeldStatus(path, holder);
    return ErrnoStatus("flock " + path, saved);
  }
  // Only for the message of whoever finds the lock taken: a failure here
  // costs nothing but that detail.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return std::unique_ptr<FileLock>(std::make_unique<FlockFileLock>(fd));
}

Result<std::unique_ptr<FileLock>> InProcessFileLocks::Lock(const std::string& path) {
  std::lock_guard lock(held_->mutex);
  if (!held_->paths.insert(path).second) return LockHeldStatus(path, "");
  return std::unique_ptr<FileLock>(std::make_unique<InProcessFileLock>([held = held_, path] {
    std::lock_guard release_lock(held->mutex);
    held->paths.erase(path);
  }));
}

}  // namespace wal
