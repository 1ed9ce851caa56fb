// The CQL frame decoder and every response-body decoder over arbitrary bytes, as
// a libFuzzer target (LLVMFuzzerTestOneInput). None may read out of bounds or
// allocate beyond its input, and:
//   * every frame the parser returns re-encodes to exactly the bytes it came
//     from, and the frames plus what stays buffered account for every input byte;
//   * whatever decodes as an ERROR maps to a non-OK Status;
//   * the typed row accessors never fail on anything but a type, size or null.
// The same function runs over the seed corpus in src/cql/fuzz_cql_frame_test.cc,
// so ordinary (non-clang) test runs check these properties too.
//
// Input: the bytes a server sent, as they arrive on a connection.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cql/error.h"
#include "cql/frame.h"
#include "cql/responses.h"
#include "cql/result.h"
#include "fuzz_check.h"


namespace {

using namespace wal::cql;

// Small, so that lengths pointing past the limit are common in fuzz inputs.
constexpr uint32_t kMaxBody = 1 << 16;

void TouchRows(const Rows& rows) {
  for (size_t r = 0; r < rows.rows.size(); ++r) {
    RowView row(rows, r);
    for (size_t c = 0; c < rows.rows[r].size(); ++c) {
      (void)row.IsNull(c);
      (void)row.Text(c);
      (void)row.BigInt(c);
      (void)row.Int(c);
      (void)row.Boolean(c);
      (void)row.GetUuid(c);
      wal::Result<std::string> bytes = row.Bytes(c);
      FUZZ_CHECK(bytes.ok() == !row.IsNull(c));
    }
  }
  for (const ColumnSpec& column : rows.metadata.columns) (void)column.type.ToString();
}

// Every message decoder, whatever the opcode says.
void DecodeMessage(Opcode opcode, std::string_view message) {
  if (opcode == Opcode::kError) {
    wal::Result<ServerError> error = DecodeError(message);
    if (error.ok()) FUZZ_CHECK(!ToStatus(*error).ok());
    return;
  }
  if (opcode == Opcode::kResult) {
    wal::Result<ResultMessage> result = DecodeResult(message);
    if (result.ok()) {
      TouchRows(result->rows);
      TouchRows(Rows{result->prepared.result_metadata, {}});
    }
    return;
  }
  (void)DecodeSupported(message);
  (void)DecodeAuthenticate(message);
  (void)DecodeAuthToken(message);
  (void)DecodeEventType(message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // As a byte stream in two pieces, cut where the first byte says.
  FrameParser parser(Direction::kResponse, kMaxBody);
  const size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  size_t framed = 0;
  bool failed = false;
  for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
    parser.Append(piece);
    while (!failed) {
      wal::Result<std::optional<Frame>> next = parser.Next();
      if (!next.ok()) {
        failed = true;
        break;
      }
      if (!next->has_value()) break;
      const Frame& frame = **next;
      FUZZ_CHECK(frame.header.length == frame.body.size());
      FUZZ_CHECK(frame.body.size() <= kMaxBody);
      const std::string encoded = EncodeHeader(frame.header) + frame.body;
      FUZZ_CHECK(input.substr(framed, encoded.size()) == encoded);
      framed += encoded.size();
      wal::Result<ResponseEnvelope> envelope = SplitResponseBody(frame.header, frame.body);
      if (envelope.ok()) DecodeMessage(frame.header.opcode, envelope->message);
    }
  }
  if (!failed) FUZZ_CHECK(framed + parser.buffered() == size);

  // And as a bare body for every decoder.
  DecodeMessage(Opcode::kError, input);
  DecodeMessage(Opcode::kResult, input);
  DecodeMessage(Opcode::kSupported, input);
  return 0;
}
