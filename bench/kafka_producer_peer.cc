// kafka_producer_peer: the raw librdkafka producer that wal's Kafka backend is
// measured against. Keeps `--in-flight` messages outstanding (a new one is
// produced the moment a delivery report arrives), acks=all + idempotence, the
// same producer settings the backend uses, and reports acknowledged writes/s
// and latency percentiles (produce call -> successful delivery report).
//
//   kafka_producer_peer --brokers 127.0.0.1:9092 --topic peer --in-flight 64 --payload-bytes 1024 --seconds 10 --json
//
// Creates the topic (1 partition, like the backend's default) when missing.
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct State {
  rd_kafka_t* producer = nullptr;
  std::string topic;
  std::string payload;
  Clock::time_point measure_from, measure_until;
  bool stopping = false;
  uint64_t acknowledged = 0, failed = 0, outstanding = 0;
  std::vector<double> latencies_ms;
};

bool Produce(State* state) {
  auto* started = new Clock::time_point(Clock::now());
  rd_kafka_resp_err_t err = rd_kafka_producev(
      state->producer, RD_KAFKA_V_TOPIC(state->topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_VALUE(state->payload.data(), state->payload.size()), RD_KAFKA_V_OPAQUE(started), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    delete started;
    return false;
  }
  ++state->outstanding;
  return true;
}

void DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* state = static_cast<State*>(opaque);
  auto* started = static_cast<Clock::time_point*>(message->_private);
  const Clock::time_point now = Clock::now();
  --state->outstanding;
  if (now >= state->measure_from && now < state->measure_until) {
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++state->acknowledged;
      state->latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - *started).count());
    } else {
      ++state->failed;
    }
  }
  delete started;
  if (!state->stopping) Produce(state);
}

double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

void CreateTopic(rd_kafka_t* rk, const std::string& name) {
  char error[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(name.c_str(), 1, -1, error, sizeof(error));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &topic, 1, nullptr, queue);
  if (rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000)) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kafka_producer_peer: raw librdkafka acks=all producer, fixed messages in flight"};
  std::string brokers = "127.0.0.1:9092", topic = "kafka_producer_peer", linger_ms = "5";
  int in_flight = 64, payload_bytes = 1024;
  double seconds = 10, warmup_seconds = 2;
  bool json = false;
  app.add_option("--brokers", brokers)->capture_default_str();
  app.add_option("--topic", topic)->capture_default_str();
  app.add_option("--in-flight", in_flight, "Messages outstanding at once")->capture_default_str();
  app.add_option("--payload-bytes", payload_bytes)->capture_default_str();
  app.add_option("--seconds", seconds, "Measured duration")->capture_default_str();
  app.add_option("--warmup", warmup_seconds, "Unmeasured warm-up")->capture_default_str();
  app.add_option("--linger-ms", linger_ms, "librdkafka linger.ms (the backend's default is 5)")->capture_default_str();
  app.add_flag("--json", json, "Print one JSON object");
  CLI11_PARSE(app, argc, argv);

  State state;
  state.topic = topic;
  state.payload.assign(static_cast<size_t>(payload_bytes), 'x');
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"bootstrap.servers", brokers}, {"acks", "all"}, {"enable.idempotence", "true"},
           {"linger.ms", linger_ms}, {"message.timeout.ms", "30000"}}) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "%s: %s\n", key.c_str(), error);
      return 2;
    }
  }
  rd_kafka_conf_set_opaque(conf, &state);
  rd_kafka_conf_set_dr_msg_cb(conf, &DeliveryReport);
  state.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (state.producer == nullptr) {
    std::fprintf(stderr, "producer: %s\n", error);
    return 2;
  }
  CreateTopic(state.producer, topic);

  const Clock::time_point start = Clock::now();
  state.measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup_seconds));
  state.measure_until = state.measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int i = 0; i < in_flight; ++i) {
    if (!Produce(&state)) {
      std::fprintf(stderr, "produce refused\n");
      return 1;
    }
  }
  while (Clock::now() < state.measure_until) rd_kafka_poll(state.producer, 10);
  state.stopping = true;
  rd_kafka_flush(state.producer, 30000);
  rd_kafka_destroy(state.producer);

  const double rate = static_cast<double>(state.acknowledged) / seconds;
  const double p50 = Percentile(state.latencies_ms, 0.50);
  const double p99 = Percentile(state.latencies_ms, 0.99);
  if (json) {
    std::printf("{\"writes_per_sec\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"acknowledged\":%llu,\"failed\":%llu}\n", rate,
                p50, p99, static_cast<unsigned long long>(state.acknowledged),
                static_cast<unsigned long long>(state.failed));
  } else {
    std::printf("acknowledged writes/s: %.0f  p50: %.3f ms  p99: %.3f ms  (failed: %llu)\n", rate, p50, p99,
                static_cast<unsigned long long>(state.failed));
  }
  return state.failed == 0 ? 0 : 1;
}
