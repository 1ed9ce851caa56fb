#include "queue/kafka/kafka_backend_impl.h"

#include <algorithm>

// Reads of a whole topic with a group-less assign()-only consumer, which
// commits nothing: the DLQ listing and Read() of the main topic.

namespace wal::queue::kafka {

Result<std::vector<DlqRecord>> KafkaBackend::ReadTopic(const std::string& topic, uint64_t from, size_t limit, bool encoded) {
  std::vector<DlqRecord> out;
  if (limit == 0) return out;
  WAL_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(settings_.reader_properties));
  rd_kafka_conf_set_log_cb(conf, &LogCallback);
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument(std::string("kafka reader: ") + error);
  }
  rd_kafka_poll_set_consumer(rk);
  Status status;
  Result<int> partitions = PartitionCount(rk, topic, std::chrono::milliseconds(5000));
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(4);
  std::map<int32_t, int64_t> end;  // partition -> high watermark
  std::map<int32_t, size_t> taken;
  Result<std::vector<Watermarks>> marks =
      partitions.ok() ? QueryWatermarks(rk, topic, *partitions, std::chrono::milliseconds(5000))
                      : Result<std::vector<Watermarks>>(partitions.status());
  if (!marks.ok()) {
    status = marks.status();
  } else {
    for (int32_t p = 0; p < *partitions; ++p) {
      int64_t start = static_cast<int64_t>(from);
      if (encoded) {
        const int64_t from_partition = static_cast<int64_t>(from >> kPartitionShift);
        if (p < from_partition) continue;
        start = p == from_partition ? static_cast<int64_t>(from & kOffsetMask) : 0;
      }
      const Watermarks& mark = (*marks)[static_cast<size_t>(p)];
      start = std::max(start, mark.low);
      if (start >= mark.high) continue;
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset = start;
      end[p] = mark.high;
    }
  }
  if (status.ok() && assignment->cnt > 0) {
    rd_kafka_assign(rk, assignment);
    const int64_t deadline = NowMillis() + 15000;
    while (!end.empty() && NowMillis() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
      if (m == nullptr) continue;
      const int32_t p = m->partition;
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        end.erase(p);
      } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = Unavailable(std::string("kafka read of ") + topic + ": " + rd_kafka_message_errstr(m));
      } else if (end.count(p)) {
        DlqRecord record;
        record.partition = p;
        record.offset = m->offset;
        record.id = encoded ? (static_cast<uint64_t>(p) << kPartitionShift) | static_cast<uint64_t>(m->offset)
                            : static_cast<uint64_t>(m->offset);
        if (m->payload != nullptr) record.value.assign(static_cast<const char*>(m->payload), m->len);
        if (m->key != nullptr) record.key.assign(static_cast<const char*>(m->key), m->key_len);
        record.due_ms = DecodeEnvelope(HeaderValue(m, kDueHeader), "", 0).due_ms;
        record.group = HeaderValue(m, kGroupHeader);
        out.push_back(std::move(record));
        if (++taken[p] >= limit || m->offset + 1 >= end[p]) end.erase(p);
      }
      rd_kafka_message_destroy(m);
      if (!status.ok()) break;
    }
    if (status.ok() && !end.empty()) status = DeadlineExceeded("kafka read of " + topic + " timed out");
  }
  rd_kafka_topic_partition_list_destroy(assignment);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (!status.ok()) return status;
  std::sort(out.begin(), out.end(), [](const DlqRecord& a, const DlqRecord& b) {
    return a.id != b.id ? a.id < b.id : a.partition < b.partition;
  });
  return out;
}

Result<std::vector<StoredEntry>> KafkaBackend::Read(uint64_t from_id, size_t limit) {
  WAL_ASSIGN_OR_RETURN(std::vector<DlqRecord> records, ReadTopic(settings_.topics[0], from_id, limit, false));
  std::vector<StoredEntry> out;
  for (DlqRecord& record : records) {
    if (out.size() >= limit) break;
    out.push_back(StoredEntry{record.id, std::move(record.value)});
  }
  return out;
}

}  // namespace wal::queue::kafka
