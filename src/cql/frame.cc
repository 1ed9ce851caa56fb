#include "cql/frame.h"

#include "cql/wire.h"

namespace wal::cql {

std::string EncodeHeader(const FrameHeader& header) {
  WireWriter writer;
  writer.Byte(header.version);
  writer.Byte(header.flags);
  writer.Short(static_cast<uint16_t>(header.stream));
  writer.Byte(static_cast<uint8_t>(header.opcode));
  writer.Int(static_cast<int32_t>(header.length));
  return writer.Take();
}

Result<std::string> EncodeFrame(Direction direction, int16_t stream, Opcode opcode, std::string_view body,
                                uint8_t flags) {
  if (body.size() > kMaxFrameBodyBytes) {
    return InvalidArgument("a CQL frame body of " + std::to_string(body.size()) + " bytes exceeds the protocol's " +
                           std::to_string(kMaxFrameBodyBytes));
  }
  FrameHeader header;
  header.version = direction == Direction::kResponse ? (kProtocolVersion | kResponseBit) : kProtocolVersion;
  header.flags = flags;
  header.stream = stream;
  header.opcode = opcode;
  header.length = static_cast<uint32_t>(body.size());
  std::string out = EncodeHeader(header);
  out.append(body);
  return out;
}

Result<FrameHeader> DecodeHeader(std::string_view bytes, Direction direction, uint32_t max_body) {
  if (bytes.size() < kHeaderSize) {
    return Corruption("a CQL frame header needs " + std::to_string(kHeaderSize) + " bytes, got " +
                      std::to_string(bytes.size()));
  }
  WireReader reader(bytes.substr(0, kHeaderSize));
  FrameHeader header;
  header.version = reader.Byte();
  header.flags = reader.Byte();
  header.stream = reader.SignedShort();
  header.opcode = static_cast<Opcode>(reader.Byte());
  header.length = static_cast<uint32_t>(reader.Int());
  const bool is_response = (header.version & kResponseBit) != 0;
  if (is_response != (direction == Direction::kResponse)) {
    return Corruption(std::string("CQL frame has the wrong direction: expected a ") +
                      (direction == Direction::kResponse ? "response" : "request") + ", version byte is " +
                      std::to_string(header.version));
  }
  if ((header.version & ~kResponseBit) != kProtocolVersion) {
    return Corruption("CQL frame speaks protocol v" + std::to_string(header.version & ~kResponseBit) +
                      ", this client speaks v" + std::to_string(kProtocolVersion));
  }
  if (header.flags & kFlagCompressed) {
    return Corruption("CQL frame body is compressed, but no compression was negotiated");
  }
  if (header.length > max_body) {
    return Corruption("CQL frame body of " + std::to_string(header.length) + " bytes exceeds the limit of " +
                      std::to_string(max_body));
  }
  return header;
}

void FrameParser::Append(std::string_view bytes) {
  // Drop what was consumed before growing, so the buffer stays about one frame.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

Result<std::optional<Frame>> FrameParser::Next() {
  if (!error_.ok()) return error_;
  std::string_view pending(buffer_.data() + consumed_, buffer_.size() - consumed_);
  if (pending.size() < kHeaderSize) return std::optional<Frame>();
  Result<FrameHeader> header = DecodeHeader(pending, direction_, max_body_);
  if (!header.ok()) {
    error_ = header.status();
    return error_;
  }
  if (pending.size() - kHeaderSize < header->length) return std::optional<Frame>();
  Frame frame;
  frame.header = *header;
  frame.body.assign(pending.substr(kHeaderSize, header->length));
  consumed_ += kHeaderSize + header->length;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return std::optional<Frame>(std::move(frame));
}

}  // namespace wal::cql
