#include "queue/local/envelope.h"

#include <gtest/gtest.h>

#include <vector>

namespace wal::queue::local {
namespace {

TEST(EnvelopeTest, RoundTripAndCorruption) {
  std::string entry = EncodeEntry(-5, 7u, std::nullopt, "key", "record");
  Envelope envelope;
  ASSERT_TRUE(DecodeEnvelope(1, entry, &envelope).ok());
  EXPECT_EQ(envelope.kind, EnvelopeKind::kEntry);
  EXPECT_EQ(envelope.due_ms, -5);
  EXPECT_EQ(envelope.supersedes, 7u);
  EXPECT_FALSE(envelope.source.has_value());
  EXPECT_EQ(envelope.ordering_key, "key");
  EXPECT_EQ(envelope.record, "record");
  std::vector<uint64_t> ids = {3, 1ull << 40};
  std::string retire = EncodeRetire(ids);
  ASSERT_TRUE(DecodeEnvelope(2, retire, &envelope).ok());
  ASSERT_EQ(envelope.retired_count, 2u);
  EXPECT_EQ(envelope.RetiredId(1), 1ull << 40);
  // Every truncation of an ENTRY header and of a RETIRE is corruption naming the id.
  for (size_t cut = 0; cut < 2 + 8 + 8 + 4 + 3; ++cut) {
    Status status = DecodeEnvelope(42, std::string_view(entry).substr(0, cut), &envelope);
    EXPECT_EQ(status.code(), StatusCode::kCorruption) << cut;
    EXPECT_NE(status.message().find("log id 42"), std::string::npos);
  }
  EXPECT_EQ(DecodeEnvelope(3, retire.substr(0, retire.size() - 1), &envelope).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeEnvelope(3, "Xgarbage", &envelope).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace wal::queue::local
