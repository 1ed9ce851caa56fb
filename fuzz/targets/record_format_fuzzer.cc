// The embedded log's byte decoders over arbitrary bytes: the segment header,
// records (walked the way recovery walks a segment), the consumer checkpoint and
// segment file names. None may read out of bounds, and whatever they accept
// must re-encode to exactly the bytes it was decoded from, so a damaged record
// cannot pass as a different valid one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "log/record_format.h"

namespace {

using namespace wal::log;

// Small enough that a length field pointing past it is common in fuzz inputs.
constexpr uint64_t kMaxRecordBytes = 1 << 16;

void WalkRecords(std::string_view rest) {
  while (!rest.empty()) {
    ParsedRecord record;
    const size_t claimed = ClaimedRecordSize(rest);
    const RecordParse parse = ParseRecord(rest, kMaxRecordBytes, &record);
    if (parse != RecordParse::kOk) {
      FUZZ_CHECK(parse != RecordParse::kIncomplete || claimed == 0 || claimed > rest.size());
      return;
    }
    FUZZ_CHECK(claimed == record.encoded_size);
    FUZZ_CHECK(record.encoded_size <= rest.size());
    FUZZ_CHECK(record.payload.size() + kRecordHeaderSize == record.encoded_size);
    std::string again;
    AppendRecord(record.id, record.payload, &again);
    FUZZ_CHECK(again == rest.substr(0, record.encoded_size));
    rest.remove_prefix(record.encoded_size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto first_id = DecodeSegmentHeader(input);
  if (first_id.ok()) {
    // Bytes [28, 32) are reserved (zero when written) and not checked on read.
    FUZZ_CHECK(EncodeSegmentHeader(*first_id).substr(0, 28) == input.substr(0, 28));
    WalkRecords(input.substr(kSegmentHeaderSize));
  } else {
    WalkRecords(input);
  }

  auto consumed = DecodeCheckpoint(input);
  // Bytes [20, 24) are reserved like the header's last four.
  if (consumed.ok()) FUZZ_CHECK(EncodeCheckpoint(*consumed).substr(0, 20) == input.substr(0, 20));

  if (auto named = ParseSegmentFileName(input)) FUZZ_CHECK(SegmentFileName(*named) == input);
  return 0;
}
