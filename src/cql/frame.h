// CQL frames: the 9-byte header of protocol.h and a body, and an incremental
// parser that cuts a byte stream into frames.
//
// Failure: a header that is not protocol v4 in the expected direction, a
// compressed body (this client never negotiates compression) or a length above
// the cap is a kCorruption error; after one, the byte stream cannot be trusted
// and its connection must be closed. Truncated input is not an error for the
// parser: it waits for more bytes.
//
// Threading: none; a FrameParser belongs to one connection's I/O thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "cql/protocol.h"

namespace wal::cql {

enum class Direction { kRequest, kResponse };

struct FrameHeader {
  uint8_t version = kProtocolVersion;  // with the direction bit
  uint8_t flags = 0;
  int16_t stream = 0;
  Opcode opcode = Opcode::kError;
  uint32_t length = 0;  // of the body
};

struct Frame {
  FrameHeader header;
  std::string body;
};

// The 9 header bytes.
std::string EncodeHeader(const FrameHeader& header);

// A whole frame: v4 header in `direction` with `body.size()` as its length.
// Fails (kInvalidArgument) if the body exceeds kMaxFrameBodyBytes.
Result<std::string> EncodeFrame(Direction direction, int16_t stream, Opcode opcode, std::string_view body,
                                uint8_t flags = 0);

// Decodes a header from the first kHeaderSize bytes of `bytes` and checks it
// (version 4, `direction`, not compressed, length <= max_body).
Result<FrameHeader> DecodeHeader(std::string_view bytes, Direction direction, uint32_t max_body = kMaxFrameBodyBytes);

class FrameParser {
 public:
  explicit FrameParser(Direction direction, uint32_t max_body = kMaxFrameBodyBytes)
      : direction_(direction), max_body_(max_body) {}

  void Append(std::string_view bytes);
  // The next complete frame; nullopt when more bytes are needed; an error when
  // the stream is malformed (sticky: every later call returns it too).
  Result<std::optional<Frame>> Next();
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  Direction direction_;
  uint32_t max_body_;
  std::string buffer_;
  size_t consumed_ = 0;
  Status error_;
};

}  // namespace wal::cql
