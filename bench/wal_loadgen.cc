// wal_loadgen: drives WriteToLog over gRPC with a fixed number of calls in
// flight and reports durable writes/s and latency percentiles.
//
//   wal_loadgen --server 127.0.0.1:7400 --namespace bench --in-flight 64 --payload-bytes 1024 --seconds 10
//
// One completion-queue thread per channel keeps `in_flight / channels` calls
// outstanding each; a call is re-issued the moment its answer arrives.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "percentile.h"
#include "wal/v1/wal.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using bench::Percentile;

struct Call {
  grpc::ClientContext context;
  wal::v1::WriteToLogResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<wal::v1::WriteToLogResponse>> reader;
  Clock::time_point started;
};

struct Totals {
  uint64_t durable = 0;
  uint64_t not_durable = 0;
  uint64_t failed = 0;
  std::vector<double> latencies_ms;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wal_loadgen: WriteToLog load generator"};
  std::string server = "127.0.0.1:7400";
  std::string namespace_name = "bench";
  int in_flight = 64;
  int payload_bytes = 1024;
  double seconds = 10;
  double warmup_seconds = 2;
  int channels = 2;
  bool json = false;
  int64_t delay_ms = 0;
  uint64_t count = 0;
  bool mutation = false;
  uint64_t partitions = 0;
  int mutation_set = 0;
  app.add_option("--server", server)->capture_default_str();
  app.add_option("--namespace", namespace_name)->capture_default_str();
  app.add_option("--in-flight", in_flight, "Calls outstanding at once")->capture_default_str();
  app.add_option("--payload-bytes", payload_bytes)->capture_default_str();
  app.add_option("--seconds", seconds, "Measured duration")->capture_default_str();
  app.add_option("--warmup", warmup_seconds, "Unmeasured warm-up")->capture_default_str();
  app.add_option("--channels", channels, "gRPC channels (one driver thread each)")->capture_default_str();
  app.add_flag("--json", json, "Print one JSON object");
  app.add_option("--delay-ms", delay_ms, "lifecycle.delay of every write")->capture_default_str();
  app.add_option("--count", count, "Stop after this many writes in all (0: run for --seconds)")->capture_default_str();
  app.add_flag("--mutation", mutation, "Send PUT mutations with distinct keys instead of opaque payloads");
  app.add_option("--partitions", partitions,
                 "With --mutation: spread the keys over N partition keys p0..p(N-1) (0: no partition key)")
      ->capture_default_str();
  app.add_option("--mutation-set", mutation_set,
                 "Send mutation sets of N PUTs (payload-bytes values, distinct keys) instead of opaque payloads")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  channels = std::max(1, std::min(channels, in_flight));

  const std::string payload(static_cast<size_t>(payload_bytes), 'w');
  const auto start = Clock::now();
  if (count > 0) warmup_seconds = 0;
  const auto measure_from = start + std::chrono::milliseconds(static_cast<int64_t>(warmup_seconds * 1000));
  auto stop_at = measure_from + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  if (count > 0) {
    // A fixed number of writes: no warm-up, and time is only a safety bound.
    warmup_seconds = 0;
    stop_at = start + std::chrono::hours(24);
  }
  std::atomic<uint64_t> issued{0};

  std::mutex totals_mutex;
  Totals totals;
  std::vector<std::thread> drivers;
  for (int channel_index = 0; channel_index < channels; ++channel_index) {
    const int calls_here = in_flight / channels + (channel_index < in_flight % channels ? 1 : 0);
    drivers.emplace_back([&, calls_here, channel_index] {
      grpc::ChannelArguments arguments;
      arguments.SetInt("grpc.channel_id", channel_index);  // distinct channels, not one shared subchannel
      auto channel = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), arguments);
      auto stub = wal::v1::WriteAheadLog::NewStub(channel);
      grpc::CompletionQueue queue;
      wal::v1::WriteToLogRequest request;
      request.set_namespace_(namespace_name);
      request.mutable_payload()->set_opaque(payload);
      if (delay_ms > 0) request.mutable_lifecycle()->mutable_delay()->set_seconds(delay_ms / 1000);
      if (delay_ms > 0) request.mutable_lifecycle()->mutable_delay()->set_nanos(static_cast<int32_t>(delay_ms % 1000) * 1000000);
      Totals local;
      // Claims the next write number; false once --count writes are claimed.
      auto claim = [&](uint64_t* sequence) {
        *sequence = issued.fetch_add(1);
        return count == 0 || *sequence < count;
      };
      auto issue = [&](Call* call, uint64_t sequence) {
        if (mutation_set > 0) {
          // Distinct keys per set, so sets never wait for each other's keys.
          auto* set = request.mutable_payload()->mutable_mutation_set();
          set->Clear();
          for (int i = 0; i < mutation_set; ++i) {
            auto* put = set->add_mutations();
            put->set_op(wal::v1::Mutation::PUT);
            put->set_table("bench");
            put->set_partition_key("set-" + std::to_string(sequence));
            put->set_key("key-" + std::to_string(i));
            put->set_value(payload);
            put->set_sequence(static_cast<uint64_t>(i));
          }
        } else if (mutation) {
          auto* put = request.mutable_payload()->mutable_mutation();
          put->set_op(wal::v1::Mutation::PUT);
          put->set_table("bench");
          put->set_key("key-" + std::to_string(sequence));
          put->set_value(payload);
          if (partitions > 0) put->set_partition_key("p" + std::to_string(sequence % partitions));
        }
        call->started = Clock::now();
        call->reader = stub->AsyncWriteToLog(&call->context, request, &queue);
        call->reader->Finish(&call->response, &call->status, call);
      };
      int outstanding = 0;
      for (int i = 0; i < calls_here; ++i) {
        uint64_t sequence = 0;
        if (!claim(&sequence)) break;
        issue(new Call(), sequence);
        ++outstanding;
      }
      void* tag = nullptr;
      bool ok = false;
      while (outstanding > 0 && queue.Next(&tag, &ok)) {
        auto* call = static_cast<Call*>(tag);
        const auto now = Clock::now();
        if (now >= measure_from && call->started >= measure_from && now < stop_at) {
          if (!call->status.ok()) {
            ++local.failed;
          } else if (call->response.durable() == wal::v1::TRUE) {
            ++local.durable;
            local.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - call->started).count());
          } else {
            ++local.not_durable;
          }
        }
        delete call;
        --outstanding;
        uint64_t sequence = 0;
        if (now < stop_at && claim(&sequence)) {
          issue(new Call(), sequence);
          ++outstanding;
        }
      }
      std::lock_guard lock(totals_mutex);
      totals.durable += local.durable;
      totals.not_durable += local.not_durable;
      totals.failed += local.failed;
      totals.latencies_ms.insert(totals.latencies_ms.end(), local.latencies_ms.begin(), local.latencies_ms.end());
    });
  }
  for (auto& driver : drivers) driver.join();

  const double elapsed = count > 0 ? std::chrono::duration<double>(Clock::now() - start).count() : seconds;
  const double rate = static_cast<double>(totals.durable) / elapsed;
  const double p50 = Percentile(totals.latencies_ms, 0.50);
  const double p99 = Percentile(totals.latencies_ms, 0.99);
  const double p999 = Percentile(totals.latencies_ms, 0.999);
  if (json) {
    std::printf(
        "{\"durable_writes_per_sec\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"durable\":%llu,"
        "\"not_durable\":%llu,\"failed\":%llu,\"in_flight\":%d,\"payload_bytes\":%d,\"seconds\":%.1f}\n",
        rate, p50, p99, p999, static_cast<unsigned long long>(totals.durable),
        static_cast<unsigned long long>(totals.not_durable), static_cast<unsigned long long>(totals.failed), in_flight,
        payload_bytes, elapsed);
  } else {
    std::printf("durable writes/s: %.0f  p50: %.3f ms  p99: %.3f ms  p99.9: %.3f ms  (not durable: %llu, failed: %llu)\n",
                rate, p50, p99, p999, static_cast<unsigned long long>(totals.not_durable),
                static_cast<unsigned long long>(totals.failed));
  }
  return totals.durable > 0 ? 0 : 1;
}
