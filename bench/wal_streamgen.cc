// wal_streamgen: drives the many-write calls over gRPC and reports durable
// writes/s and per-write latency percentiles, as wal_loadgen does for the unary
// call.
//
//   wal_streamgen --mode stream --streams 2 --in-flight 512 --payload-bytes 1024 --seconds 10
//   wal_streamgen --mode batch --threads 4 --batch 256 --payload-bytes 1024 --seconds 10
//   wal_streamgen --mode batch --count 10000000 --delay-ms 86400000   # fill a backlog
//
// stream: each stream has a writer thread keeping up to --in-flight writes
// unanswered and a reader thread taking the answers. batch: each thread sends
// one WriteToLogBatch of --batch writes at a time; a write's latency is its
// batch's. With --count (batch mode), the threads share a budget of that many
// writes, every write is measured, and the run ends when it is spent.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "percentile.h"
#include "wal/v1/wal.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Percentile;

struct Totals {
  uint64_t durable = 0;
  uint64_t not_durable = 0;
  uint64_t failed = 0;
  std::vector<double> latencies_ms;

  void Add(const Totals& other) {
    durable += other.durable;
    not_durable += other.not_durable;
    failed += other.failed;
    latencies_ms.insert(latencies_ms.end(), other.latencies_ms.begin(), other.latencies_ms.end());
  }
};

struct Window {
  Clock::time_point measure_from;
  Clock::time_point stop_at;
  bool Measured(Clock::time_point started, Clock::time_point now) const {
    return started >= measure_from && now >= measure_from && now < stop_at;
  }
};

void Count(const wal::v1::WriteResult& result, double latency_ms, Totals* totals) {
  if (result.has_refused()) {
    ++totals->failed;
  } else if (result.written().durable() == wal::v1::TRUE) {
    ++totals->durable;
    totals->latencies_ms.push_back(latency_ms);
  } else {
    ++totals->not_durable;
  }
}

Totals RunStream(wal::v1::WriteAheadLog::Stub& stub, const wal::v1::WriteToLogRequest& write, size_t in_flight,
                 const Window& window) {
  grpc::ClientContext context;
  auto stream = stub.WriteToLogStream(&context);
  std::mutex mutex;
  std::condition_variable room;
  size_t outstanding = 0;
  bool reader_done = false;  // the stream ended: nothing more will make room
  // Send times by sequence; a sequence is reused only after its answer came.
  std::vector<Clock::time_point> sent_at(in_flight);
  std::vector<uint64_t> free_slots;
  for (uint64_t slot = 0; slot < in_flight; ++slot) free_slots.push_back(slot);
  std::thread writer([&] {
    wal::v1::WriteToLogStreamRequest request;
    *request.mutable_write() = write;
    while (Clock::now() < window.stop_at) {
      uint64_t slot = 0;
      {
        std::unique_lock lock(mutex);
        room.wait(lock, [&] { return outstanding < in_flight || reader_done; });
        if (reader_done) break;
        ++outstanding;
        slot = free_slots.back();
        free_slots.pop_back();
        sent_at[slot] = Clock::now();
      }
      request.set_sequence(slot);
      if (!stream->Write(request)) break;
    }
    stream->WritesDone();
  });
  Totals totals;
  wal::v1::WriteToLogStreamResponse response;
  while (stream->Read(&response)) {
    const auto now = Clock::now();
    Clock::time_point started;
    {
      std::lock_guard lock(mutex);
      started = sent_at[response.sequence()];
      free_slots.push_back(response.sequence());
      --outstanding;
    }
    room.notify_one();
    if (window.Measured(started, now)) {
      Count(response.result(), std::chrono::duration<double, std::milli>(now - started).count(), &totals);
    }
  }
  {
    std::lock_guard lock(mutex);
    reader_done = true;
  }
  room.notify_all();
  writer.join();
  if (!stream->Finish().ok()) ++totals.failed;
  return totals;
}

// `budget`, when not null, is the writes left to send in all: each batch takes
// its writes from it (the last one may be short), and the thread stops at 0.
Totals RunBatches(wal::v1::WriteAheadLog::Stub& stub, const wal::v1::WriteToLogRequest& write, int batch_size,
                  const Window& window, std::atomic<int64_t>* budget) {
  wal::v1::WriteToLogBatchRequest batch;
  for (int i = 0; i < batch_size; ++i) *batch.add_writes() = write;
  Totals totals;
  while (Clock::now() < window.stop_at) {
    if (budget != nullptr) {
      const int64_t left = budget->fetch_sub(batch_size);
      if (left <= 0) break;
      if (left < batch_size) {
        batch.mutable_writes()->DeleteSubrange(0, batch_size - static_cast<int>(left));
        batch_size = static_cast<int>(left);
      }
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    wal::v1::WriteToLogBatchResponse results;
    const auto started = Clock::now();
    grpc::Status status = stub.WriteToLogBatch(&context, batch, &results);
    const auto now = Clock::now();
    if (!window.Measured(started, now)) continue;
    if (!status.ok()) {
      totals.failed += static_cast<uint64_t>(batch_size);
      continue;
    }
    const double latency = std::chrono::duration<double, std::milli>(now - started).count();
    for (const auto& result : results.results()) Count(result, latency, &totals);
  }
  return totals;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wal_streamgen: WriteToLogStream / WriteToLogBatch load generator"};
  std::string server = "127.0.0.1:7400";
  std::string namespace_name = "bench";
  std::string mode = "stream";
  int streams = 2;
  int threads = 4;
  int in_flight = 512;
  int batch_size = 256;
  int payload_bytes = 1024;
  double seconds = 10;
  double warmup_seconds = 2;
  bool json = false;
  int64_t count = 0;
  int64_t delay_ms = 0;
  app.add_option("--server", server)->capture_default_str();
  app.add_option("--namespace", namespace_name)->capture_default_str();
  app.add_option("--mode", mode, "stream or batch")->check(CLI::IsMember({"stream", "batch"}))->capture_default_str();
  app.add_option("--streams", streams, "stream: concurrent streams (one channel each)")->capture_default_str();
  app.add_option("--in-flight", in_flight, "stream: unanswered writes per stream")->capture_default_str();
  app.add_option("--threads", threads, "batch: concurrent batch calls")->capture_default_str();
  app.add_option("--batch", batch_size, "batch: writes per call")->capture_default_str();
  app.add_option("--payload-bytes", payload_bytes)->capture_default_str();
  app.add_option("--seconds", seconds, "Measured duration")->capture_default_str();
  app.add_option("--warmup", warmup_seconds, "Unmeasured warm-up")->capture_default_str();
  app.add_flag("--json", json, "Print one JSON object");
  app.add_option("--count", count, "batch: stop after this many writes in all, each measured (0: run for --seconds)")
      ->capture_default_str();
  app.add_option("--delay-ms", delay_ms, "lifecycle.delay of every write")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (count > 0 && mode != "batch") {
    std::fprintf(stderr, "wal_streamgen: --count needs --mode batch\n");
    return 2;
  }

  wal::v1::WriteToLogRequest write;
  write.set_namespace_(namespace_name);
  write.mutable_payload()->set_opaque(std::string(static_cast<size_t>(payload_bytes), 'w'));
  if (delay_ms > 0) {
    write.mutable_lifecycle()->mutable_delay()->set_seconds(delay_ms / 1000);
    write.mutable_lifecycle()->mutable_delay()->set_nanos(static_cast<int32_t>(delay_ms % 1000) * 1000000);
  }
  Window window;
  const auto began = Clock::now();
  window.measure_from = began + std::chrono::milliseconds(static_cast<int64_t>(count > 0 ? 0 : warmup_seconds * 1000));
  window.stop_at = count > 0 ? Clock::time_point::max()
                             : window.measure_from + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  std::atomic<int64_t> budget{count};

  const int drivers_count = mode == "stream" ? std::max(1, streams) : std::max(1, threads);
  std::mutex totals_mutex;
  Totals totals;
  std::vector<std::thread> drivers;
  for (int index = 0; index < drivers_count; ++index) {
    drivers.emplace_back([&, index] {
      grpc::ChannelArguments arguments;
      arguments.SetInt("grpc.channel_id", index);  // distinct connections
      arguments.SetMaxSendMessageSize(-1);
      arguments.SetMaxReceiveMessageSize(-1);
      auto stub = wal::v1::WriteAheadLog::NewStub(
          grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), arguments));
      Totals local = mode == "stream" ? RunStream(*stub, write, static_cast<size_t>(std::max(1, in_flight)), window)
                                      : RunBatches(*stub, write, std::max(1, batch_size), window,
                                                   count > 0 ? &budget : nullptr);
      std::lock_guard lock(totals_mutex);
      totals.Add(local);
    });
  }
  for (auto& driver : drivers) driver.join();

  if (count > 0) seconds = std::chrono::duration<double>(Clock::now() - began).count();
  const double rate = static_cast<double>(totals.durable) / seconds;
  const double p50 = Percentile(totals.latencies_ms, 0.50);
  const double p99 = Percentile(totals.latencies_ms, 0.99);
  if (json) {
    std::printf(
        "{\"durable_writes_per_sec\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"durable\":%llu,\"not_durable\":%llu,"
        "\"failed\":%llu,\"mode\":\"%s\",\"payload_bytes\":%d,\"seconds\":%.1f}\n",
        rate, p50, p99, static_cast<unsigned long long>(totals.durable),
        static_cast<unsigned long long>(totals.not_durable), static_cast<unsigned long long>(totals.failed),
        mode.c_str(), payload_bytes, seconds);
  } else {
    std::printf("%s: durable writes/s: %.0f  p50: %.3f ms  p99: %.3f ms  (not durable: %llu, failed: %llu)\n",
                mode.c_str(), rate, p50, p99, static_cast<unsigned long long>(totals.not_durable),
                static_cast<unsigned long long>(totals.failed));
  }
  return totals.durable > 0 ? 0 : 1;
}
