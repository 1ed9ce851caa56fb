// raw_fsync: the disk's own ceiling for the durability wal promises. Appends
// fixed-size records to a file and fdatasyncs after each, the way a naive
// durable queue would, and (with --batch N) after every N records, the way a
// group commit does. Reports records/s and fsyncs/s.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  CLI::App app{"raw_fsync: append + fdatasync ceiling of a disk"};
  std::string path = "raw_fsync.dat";
  int record_bytes = 1024;
  int batch = 1;
  double seconds = 5;
  bool json = false;
  app.add_option("--path", path, "File to write (on the disk under test)")->capture_default_str();
  app.add_option("--record-bytes", record_bytes)->capture_default_str();
  app.add_option("--batch", batch, "Records per fdatasync")->capture_default_str();
  app.add_option("--seconds", seconds)->capture_default_str();
  app.add_flag("--json", json);
  CLI11_PARSE(app, argc, argv);

  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror("open");
    return 1;
  }
  const std::string buffer(static_cast<size_t>(record_bytes) * static_cast<size_t>(batch), 'r');
  const auto start = std::chrono::steady_clock::now();
  const auto stop = start + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  uint64_t syncs = 0;
  while (std::chrono::steady_clock::now() < stop) {
    if (::write(fd, buffer.data(), buffer.size()) != static_cast<ssize_t>(buffer.size()) || ::fdatasync(fd) != 0) {
      std::perror("write/fdatasync");
      return 1;
    }
    ++syncs;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  ::unlink(path.c_str());
  const double records_per_sec = static_cast<double>(syncs) * batch / elapsed;
  const double syncs_per_sec = static_cast<double>(syncs) / elapsed;
  if (json) {
    std::printf("{\"records_per_sec\":%.0f,\"fsyncs_per_sec\":%.0f,\"batch\":%d,\"record_bytes\":%d}\n", records_per_sec,
                syncs_per_sec, batch, record_bytes);
  } else {
    std::printf("records/s: %.0f  fdatasyncs/s: %.0f  (batch %d, %d-byte records)\n", records_per_sec, syncs_per_sec,
                batch, record_bytes);
  }
  return 0;
}
