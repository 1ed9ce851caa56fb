// The peer of the SQS write benchmark: the raw rate at which an SQS endpoint
// (ElasticMQ in bench/sections/30-sqs.sh) accepts SendMessage calls from
// --concurrency threads, each sending one message at a time through the
// project's SqsClient (same signing, same HTTP stack, same MD5 check as wald's
// SQS backend). --batch N sends SendMessageBatch of N instead.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "queue/sqs/credentials.h"
#include "queue/sqs/sqs_client.h"

namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
  return values[index];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Raw SQS SendMessage rate"};
  std::string endpoint = "http://127.0.0.1:9324";
  std::string queue = "bench";
  std::string region = "us-east-1";
  int concurrency = 64;
  int payload_bytes = 1024;
  int batch = 1;
  double seconds = 10;
  double warmup_seconds = 1;
  bool json = false;
  app.add_option("--endpoint", endpoint)->capture_default_str();
  app.add_option("--queue", queue, "Queue name or URL")->capture_default_str();
  app.add_option("--region", region)->capture_default_str();
  app.add_option("--concurrency", concurrency, "Sender threads, one call outstanding each")->capture_default_str();
  app.add_option("--payload-bytes", payload_bytes, "Message body bytes")->capture_default_str();
  app.add_option("--batch", batch, "Messages per call: 1 = SendMessage, 2..10 = SendMessageBatch")
      ->check(CLI::Range(1, 10))
      ->capture_default_str();
  app.add_option("--seconds", seconds, "Measured duration")->capture_default_str();
  app.add_option("--warmup", warmup_seconds, "Unmeasured warm-up")->capture_default_str();
  app.add_flag("--json", json, "Print one JSON object");
  CLI11_PARSE(app, argc, argv);

  auto credentials = wal::queue::sqs::LoadCredentials(wal::queue::sqs::ProcessEnvironment());
  if (!credentials.ok()) {
    std::fprintf(stderr, "sqs_send_peer: %s\n", credentials.status().ToString().c_str());
    return 1;
  }
  wal::queue::sqs::SqsClientOptions options;
  options.endpoint = endpoint;
  options.region = region;
  options.credentials = std::move(credentials).value();
  wal::queue::sqs::SqsClient client(options);
  std::string url = queue;
  if (url.rfind("http", 0) != 0) {
    auto resolved = client.GetQueueUrl(queue);
    if (!resolved.ok()) {
      std::fprintf(stderr, "sqs_send_peer: %s\n", resolved.status().ToString().c_str());
      return 1;
    }
    url = *resolved;
  }

  wal::queue::sqs::OutgoingMessage message;
  message.body.assign(static_cast<size_t>(payload_bytes), 'x');
  std::vector<wal::queue::sqs::OutgoingMessage> messages(static_cast<size_t>(batch), message);

  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration<double>(warmup_seconds);
  const auto end = measure_from + std::chrono::duration<double>(seconds);
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> failed{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::string first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      while (true) {
        const auto before = Clock::now();
        if (before >= end) break;
        size_t ok = 0;
        std::string error;
        if (batch == 1) {
          auto result = client.SendMessage(url, message);
          if (result.status.ok()) ok = 1; else error = result.status.ToString();
        } else {
          for (const auto& result : client.SendMessageBatch(url, messages)) {
            if (result.status.ok()) ++ok; else error = result.status.ToString();
          }
        }
        const auto after = Clock::now();
        if (before < measure_from) continue;
        sent += ok;
        failed += static_cast<uint64_t>(batch) - ok;
        mine.push_back(std::chrono::duration<double, std::milli>(after - before).count());
        if (!error.empty()) {
          std::lock_guard lock(mutex);
          if (first_error.empty()) first_error = error;
        }
      }
      std::lock_guard lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& thread : threads) thread.join();
  const double rate = static_cast<double>(sent.load()) / seconds;
  const double p50 = Percentile(latencies_ms, 0.50);
  const double p99 = Percentile(latencies_ms, 0.99);
  if (json) {
    std::printf("{\"messages_per_sec\":%.0f,\"calls\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"sent\":%llu,\"failed\":%llu}\n",
                rate, latencies_ms.size(), p50, p99, static_cast<unsigned long long>(sent.load()),
                static_cast<unsigned long long>(failed.load()));
  } else {
    std::printf("messages/s: %.0f  p50: %.3f ms  p99: %.3f ms  (failed: %llu)\n", rate, p50, p99,
                static_cast<unsigned long long>(failed.load()));
  }
  if (!first_error.empty()) std::fprintf(stderr, "sqs_send_peer: first error: %s\n", first_error.c_str());
  return sent.load() > 0 ? 0 : 1;
}
