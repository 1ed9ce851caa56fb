// The embedded log's byte decoders over arbitrary bytes: the segment header
// (format versions 1 and 2), records (walked the way recovery walks a segment),
// the consumer checkpoint and segment file names. None may read out of bounds,
// and whatever they accept must re-encode to exactly the bytes it was decoded
// from, so a damaged record cannot pass as a different valid one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "log/record_format.h"

namespace {

using namespace wal::log;

std::string Reencode(const ParsedRecord& record, uint32_t version) {
  std::string again;
  if (version == kFormatVersionV1) {
    AppendRecordV1(record.id, record.payload, &again);
  } else {
    AppendRecord(record.id, record.group_index, record.group_count, record.payload, &again);
  }
  return again;
}

void WalkRecords(std::string_view rest, uint32_t version) {
  while (!rest.empty()) {
    ParsedRecord record;
    const size_t claimed = ClaimedRecordSize(rest, version);
    const RecordParse parse = ParseRecord(rest, version, &record);
    FUZZ_CHECK(!DescribeRecordParse(parse).empty());
    if (parse != RecordParse::kOk) {
      FUZZ_CHECK(parse != RecordParse::kIncomplete || claimed == 0 || claimed > rest.size());
      return;
    }
    FUZZ_CHECK(claimed == record.encoded_size);
    FUZZ_CHECK(record.encoded_size <= rest.size());
    FUZZ_CHECK(record.payload.size() + RecordHeaderSize(version) == record.encoded_size);
    FUZZ_CHECK(record.payload.size() <= MaxRecordBytes(version));
    FUZZ_CHECK(record.group_count >= 1 && record.group_index < record.group_count);
    FUZZ_CHECK(record.group_first_id() <= record.id);
    if (version == kFormatVersionV1) FUZZ_CHECK(record.group_index == 0 && record.group_count == 1);
    FUZZ_CHECK(Reencode(record, version) == rest.substr(0, record.encoded_size));
    rest.remove_prefix(record.encoded_size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto header = DecodeSegmentHeader(input);
  if (header.ok()) {
    FUZZ_CHECK(header->size == SegmentHeaderSize(header->version));
    FUZZ_CHECK(header->gap_start_id <= header->first_id);
    // The last four bytes of either header are reserved (zero when written) and
    // not checked on read.
    const std::string encoded = header->version == kFormatVersionV1
                                    ? EncodeSegmentHeaderV1(header->first_id)
                                    : EncodeSegmentHeader(header->first_id, header->gap_start_id);
    FUZZ_CHECK(encoded.size() == header->size);
    FUZZ_CHECK(encoded.substr(0, header->size - 4) == input.substr(0, header->size - 4));
    WalkRecords(input.substr(header->size), header->version);
  } else {
    // Records without a header, read as either version.
    WalkRecords(input, kFormatVersion);
    WalkRecords(input, kFormatVersionV1);
  }

  auto consumed = DecodeCheckpoint(input);
  // Bytes [20, 24) are reserved like the header's last four.
  if (consumed.ok()) FUZZ_CHECK(EncodeCheckpoint(*consumed).substr(0, 20) == input.substr(0, 20));

  if (auto named = ParseSegmentFileName(input)) FUZZ_CHECK(SegmentFileName(*named) == input);
  return 0;
}
