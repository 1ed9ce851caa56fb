// The Kafka record envelope a consumer reads, over arbitrary bytes: the
// wal-due-ms and wal-group headers, the message timestamp, the receipt text
// that comes back with a delivery, and the value (a serialized LogRecord),
// which the engine then applies to a target. Nothing may throw, overflow or
// read out of bounds; a due time always lands in [0, kMaxDueMs]; a receipt
// that parses prints and parses back to the same receipt; applying a record that parses
// answers ok, retryable or permanent.
//
// Input: byte 0 = length of the due header, byte 1 = length of the group
// header, bytes 2..9 = the timestamp (little-endian), then the due header, the
// group header, a receipt line ending in '\n', and the value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/stubs/logging.h>

#include "engine/payload_apply.h"
#include "fuzz_check.h"
#include "queue/kafka/kafka_internal.h"
#include "target/target.h"
#include "wal/v1/record.pb.h"

namespace {

using namespace wal;

// Records what it is asked to do and refuses what a real store would.
class RecordingTarget final : public target::Target {
 public:
  target::ApplyResult ApplyMutation(const v1::Mutation& mutation, const target::DeliveryContext&) override {
    ++applied_;
    if (mutation.key().empty()) return target::ApplyResult::Permanent("empty key");
    return target::ApplyResult::Ok();
  }
  target::ApplyResult DeliverOpaque(std::string_view, const target::DeliveryContext&) override {
    ++applied_;
    return target::ApplyResult::Ok();
  }
  Status ValidatePayload(const v1::Payload&) const override { return Status::Ok(); }
  Status Probe() override { return Status::Ok(); }
  size_t applied() const { return applied_; }

 private:
  size_t applied_ = 0;
};

std::string_view Take(std::string_view* input, size_t length) {
  std::string_view taken = input->substr(0, std::min(length, input->size()));
  input->remove_prefix(taken.size());
  return taken;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Values that are not UTF-8 where a string field is are common here; protobuf logs each one.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wal::queue::kafka;
  if (size < 10) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t due_length = data[0];
  const size_t group_length = data[1];
  uint64_t timestamp = 0;
  for (int i = 0; i < 8; ++i) timestamp |= static_cast<uint64_t>(data[2 + i]) << (8 * i);
  input.remove_prefix(10);
  const std::string_view due_header = Take(&input, due_length);
  const std::string_view group_header = Take(&input, group_length);
  const size_t newline = input.find('\n');
  const std::string_view receipt_text = Take(&input, newline == std::string_view::npos ? input.size() : newline);
  if (!input.empty()) input.remove_prefix(1);
  const std::string_view value = input;

  const Envelope envelope = DecodeEnvelope(due_header, group_header, static_cast<int64_t>(timestamp));
  FUZZ_CHECK(envelope.due_ms >= 0 && envelope.due_ms <= kMaxDueMs);
  FUZZ_CHECK(envelope.produced_ms >= 0 && envelope.produced_ms <= kMaxDueMs);
  FUZZ_CHECK(envelope.group == group_header);
  for (Milliseconds tier : DefaultDelayTiers()) {
    const int64_t gate = TierGateMs(envelope.produced_ms, envelope.due_ms, tier);
    FUZZ_CHECK(gate <= envelope.due_ms);
  }

  Receipt receipt;
  if (Receipt::Parse(receipt_text, &receipt)) {
    FUZZ_CHECK(receipt.partition >= 0 && receipt.offset >= 0);
    Receipt again;  // the text may have had leading zeros; what it means must print and parse back
    FUZZ_CHECK(Receipt::Parse(receipt.ToString(), &again));
    FUZZ_CHECK(again.ToString() == receipt.ToString());
  }

  v1::LogRecord record;
  if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) return 0;
  RecordingTarget target;
  target::DeliveryContext context{"orders", 1, 1, record.idempotency_key(), record.origin_region()};
  const target::ApplyResult result = engine::ApplyPayload(target, record, context);
  FUZZ_CHECK(result.ok() || !result.reason.empty());
  return 0;
}
