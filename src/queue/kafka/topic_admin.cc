#include "queue/kafka/kafka_backend_impl.h"

#include <spdlog/spdlog.h>

// Topic administration: creating the main, delay-tier and DLQ topics, and
// counting their partitions (which may grow while the backend runs).

namespace wal::queue::kafka {

Status KafkaBackend::CreateTopics(const std::vector<std::pair<std::string, int>>& topics, std::chrono::milliseconds timeout) {
  char error[512];
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  for (const auto& [name, partitions] : topics) {
    rd_kafka_NewTopic_t* topic =
        rd_kafka_NewTopic_new(name.c_str(), partitions, settings_.replication_factor, error, sizeof(error));
    if (topic == nullptr) {
      for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
      return InvalidArgument("kafka topic " + name + ": " + error);
    }
    new_topics.push_back(topic);
  }
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(producer_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(timeout.count()), error, sizeof(error));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(producer_);
  rd_kafka_CreateTopics(producer_, new_topics.data(), new_topics.size(), options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);
  Status status;
  if (event == nullptr) {
    status = Unavailable("kafka CreateTopics timed out");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = Unavailable(std::string("kafka CreateTopics: ") + rd_kafka_event_error_string(event));
  } else {
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count && status.ok(); ++i) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* message = rd_kafka_topic_result_error_string(results[i]);
        status = Unavailable(std::string("kafka create topic ") + rd_kafka_topic_result_name(results[i]) + ": " +
                             (message ? message : rd_kafka_err2str(err)));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(options);
  for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
  return status;
}

Result<int> KafkaBackend::PartitionCount(rd_kafka_t* rk, const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle, &metadata, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Unavailable("kafka metadata for " + topic + ": " + rd_kafka_err2str(err));
  int count = -1;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (metadata->topic_cnt == 1) {
    count = metadata->topics[0].partition_cnt;
    topic_err = metadata->topics[0].err;
  }
  rd_kafka_metadata_destroy(metadata);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || count <= 0) {
    return Unavailable("kafka topic " + topic + ": " + rd_kafka_err2str(topic_err));
  }
  return count;
}

Status KafkaBackend::EnsureTopics(std::chrono::milliseconds timeout) {
  std::vector<std::pair<std::string, int>> main;
  for (const std::string& topic : settings_.topics) main.emplace_back(topic, settings_.topic_partitions);
  WAL_RETURN_IF_ERROR(CreateTopics(main, timeout));
  WAL_ASSIGN_OR_RETURN(int partitions, PartitionCount(producer_, settings_.topics[0], timeout));
  std::vector<std::pair<std::string, int>> others;
  for (const std::string& topic : settings_.tier_topics) others.emplace_back(topic, partitions);
  others.emplace_back(settings_.dlq_topic, 1);
  WAL_RETURN_IF_ERROR(CreateTopics(others, timeout));
  std::map<std::string, int> counts = {{settings_.topics[0], partitions}};
  for (const std::string& topic : settings_.tier_topics) {
    WAL_ASSIGN_OR_RETURN(counts[topic], PartitionCount(producer_, topic, timeout));
  }
  WAL_ASSIGN_OR_RETURN(counts[settings_.dlq_topic], PartitionCount(producer_, settings_.dlq_topic, timeout));
  {
    std::lock_guard lock(stats_mu_);
    partition_counts_ = std::move(counts);
  }
  topics_ready_ = true;
  cv_.notify_all();
  return Status::Ok();
}

void KafkaBackend::RecountPartitions() {
  std::vector<std::string> topics = {settings_.topics[0], settings_.dlq_topic};
  topics.insert(topics.end(), settings_.tier_topics.begin(), settings_.tier_topics.end());
  std::map<std::string, int> counts;
  for (const std::string& topic : topics) {
    auto count = PartitionCount(producer_, topic, std::chrono::milliseconds(1000));
    if (!count.ok()) return;
    counts[topic] = *count;
  }
  std::lock_guard lock(stats_mu_);
  for (const auto& [topic, count] : counts) {
    const int before = partition_counts_[topic];
    if (before != count) {
      spdlog::info("namespace {}: topic {} now has {} partitions (was {})", settings_.name, topic, count, before);
    }
  }
  partition_counts_ = std::move(counts);
}

Result<std::vector<Watermarks>> QueryWatermarks(rd_kafka_t* rk, const std::string& topic, int partitions,
                                                std::chrono::milliseconds timeout) {
  std::vector<Watermarks> marks(static_cast<size_t>(std::max(partitions, 0)));
  for (const int64_t which : {int64_t{RD_KAFKA_OFFSET_BEGINNING}, int64_t{RD_KAFKA_OFFSET_END}}) {
    if (marks.empty()) break;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
    for (int32_t p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = which;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list, static_cast<int>(timeout.count()));
    for (int i = 0; i < list->cnt && err == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      const rd_kafka_topic_partition_t& entry = list->elems[i];
      if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = entry.err;
      } else if (entry.offset < 0) {
        err = RD_KAFKA_RESP_ERR__BAD_MSG;  // the partition was missing from the response
      } else {
        Watermarks& mark = marks[static_cast<size_t>(entry.partition)];
        (which == RD_KAFKA_OFFSET_BEGINNING ? mark.low : mark.high) = entry.offset;
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Unavailable("kafka watermarks of " + topic + ": " + rd_kafka_err2str(err));
    }
  }
  return marks;
}

}  // namespace wal::queue::kafka
