// delivery_lateness: how late delayed entries reach their target.
//
// Runs an HTTP sink on loopback, points a wald namespace (HTTP target) at it
// through the admin API, then writes opaque entries at a fixed rate with a fixed
// delay. Each body carries the instant the entry can be due at the earliest
// (send time + delay); the sink records arrival, and lateness = arrival - due.
// Because the real due time (acceptance + delay) is a little later than send
// time + delay, the reported lateness is an upper bound.
//
//   delivery_lateness --server 127.0.0.1:7400 --namespace late --rate 5000 --seconds 10 --delay-ms 3000
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "wal/v1/admin.grpc.pb.h"
#include "wal/v1/wal.grpc.pb.h"

namespace {

using Clock = std::chrono::system_clock;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

double Percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  size_t index = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

struct Call {
  grpc::ClientContext context;
  wal::v1::WriteToLogResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<wal::v1::WriteToLogResponse>> reader;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"delivery_lateness: lateness of delayed deliveries at a fixed due rate"};
  std::string server = "127.0.0.1:7400";
  std::string namespace_name = "lateness";
  int rate = 5000;
  double seconds = 10;
  int64_t delay_ms = 3000;
  int concurrency = 4;
  app.add_option("--server", server)->capture_default_str();
  app.add_option("--namespace", namespace_name)->capture_default_str();
  app.add_option("--rate", rate, "Entries written (and so coming due) per second")->capture_default_str();
  app.add_option("--seconds", seconds)->capture_default_str();
  app.add_option("--delay-ms", delay_ms)->capture_default_str();
  app.add_option("--concurrency", concurrency, "Consumer workers of the namespace")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::mutex mutex;
  std::vector<double> lateness_ms;
  httplib::Server sink;
  sink.set_tcp_nodelay(true);
  sink.Post("/deliver", [&](const httplib::Request& request, httplib::Response& response) {
    const int64_t arrived = NowMicros();
    const int64_t due = std::stoll(request.body);
    {
      std::lock_guard lock(mutex);
      lateness_ms.push_back(static_cast<double>(arrived - due) / 1000.0);
    }
    response.set_content("ok", "text/plain");
  });
  const int port = sink.bind_to_any_port("127.0.0.1");
  std::thread sink_thread([&] { sink.listen_after_bind(); });
  while (!sink.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  auto channel = grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  auto admin = wal::v1::Admin::NewStub(channel);
  {
    wal::v1::ApplyNamespaceRequest apply;
    auto& fields = *apply.mutable_config()->mutable_fields();
    fields["name"].set_string_value(namespace_name);
    (*fields["backend"].mutable_struct_value()->mutable_fields())["type"].set_string_value("local");
    auto& target = *fields["target"].mutable_struct_value()->mutable_fields();
    target["type"].set_string_value("http");
    target["url"].set_string_value("http://127.0.0.1:" + std::to_string(port) + "/deliver");
    auto& consumer = *fields["consumer"].mutable_struct_value()->mutable_fields();
    consumer["concurrency"].set_number_value(concurrency);
    consumer["poll_interval"].set_string_value("10ms");
    consumer["max_entries_per_poll"].set_number_value(200);
    wal::v1::NamespaceResponse applied;
    grpc::ClientContext context;
    grpc::Status status = admin->ApplyNamespace(&context, apply, &applied);
    if (!status.ok()) {
      std::fprintf(stderr, "apply namespace: %s\n", status.error_message().c_str());
      return 1;
    }
  }

  auto stub = wal::v1::WriteAheadLog::NewStub(channel);
  grpc::CompletionQueue queue;
  std::atomic<uint64_t> not_durable{0};
  std::thread reaper([&] {
    void* tag = nullptr;
    bool ok = false;
    while (queue.Next(&tag, &ok)) {
      auto* call = static_cast<Call*>(tag);
      if (!call->status.ok() || call->response.durable() != wal::v1::TRUE) not_durable++;
      delete call;
    }
  });
  const uint64_t total = static_cast<uint64_t>(rate * seconds);
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < total; ++i) {
    // Paced by the clock, so the due rate is steady even if a send is slow.
    const auto send_at = start + std::chrono::microseconds(static_cast<int64_t>(i * 1'000'000 / rate));
    std::this_thread::sleep_until(send_at);
    wal::v1::WriteToLogRequest request;
    request.set_namespace_(namespace_name);
    request.mutable_payload()->set_opaque(std::to_string(NowMicros() + delay_ms * 1000));
    *request.mutable_lifecycle()->mutable_delay() = google::protobuf::util::TimeUtil::MillisecondsToDuration(delay_ms);
    auto* call = new Call();
    call->reader = stub->AsyncWriteToLog(&call->context, request, &queue);
    call->reader->Finish(&call->response, &call->status, call);
  }
  const double write_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Wait for every delivery (bounded).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms) + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex);
      if (lateness_ms.size() + not_durable.load() >= total) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sink.stop();
  sink_thread.join();
  queue.Shutdown();
  reaper.join();

  std::lock_guard lock(mutex);
  const double early = static_cast<double>(std::count_if(lateness_ms.begin(), lateness_ms.end(), [](double v) { return v < 0; }));
  std::printf(
      "{\"rate\":%d,\"achieved_write_rate\":%.0f,\"entries\":%llu,\"delivered\":%zu,\"not_durable\":%llu,"
      "\"lateness_p50_ms\":%.2f,\"lateness_p99_ms\":%.2f,\"lateness_max_ms\":%.2f,\"early\":%.0f}\n",
      rate, static_cast<double>(total) / write_seconds, static_cast<unsigned long long>(total), lateness_ms.size(),
      static_cast<unsigned long long>(not_durable.load()), Percentile(lateness_ms, 0.5), Percentile(lateness_ms, 0.99),
      lateness_ms.empty() ? 0.0 : *std::max_element(lateness_ms.begin(), lateness_ms.end()), early);
  return lateness_ms.size() == total ? 0 : 1;
}
