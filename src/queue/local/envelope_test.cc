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
  EXPECT_FALSE(envelope.outcomes) << "the DLQ's RETIREs record no outcome";
  EXPECT_EQ(DecodeEnvelope(3, retire.substr(0, retire.size() - 1), &envelope).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeEnvelope(3, "Xgarbage", &envelope).code(), StatusCode::kCorruption);
}

TEST(EnvelopeTest, RetireWithOutcomesRoundTripsAndRefusesADeadCountOverItsCount) {
  const std::vector<uint64_t> delivered = {4, 9}, dead = {7};
  std::string retire = EncodeRetireWithOutcomes(delivered, dead);
  Envelope envelope;
  ASSERT_TRUE(DecodeEnvelope(10, retire, &envelope).ok());
  EXPECT_TRUE(envelope.outcomes);
  ASSERT_EQ(envelope.retired_count, 3u);
  EXPECT_EQ(envelope.delivered_count, 2u);
  EXPECT_EQ(envelope.RetiredId(0), 4u);
  EXPECT_EQ(envelope.RetiredId(1), 9u);
  EXPECT_EQ(envelope.RetiredId(2), 7u);
  ASSERT_TRUE(DecodeEnvelope(11, EncodeRetireWithOutcomes({}, {}), &envelope).ok());
  EXPECT_EQ(envelope.retired_count, 0u);
  // Every cut, a dead count over the count, and an unknown flag are corruption.
  for (size_t cut = 0; cut < retire.size(); ++cut) {
    EXPECT_EQ(DecodeEnvelope(12, std::string_view(retire).substr(0, cut), &envelope).code(), StatusCode::kCorruption)
        << cut;
  }
  std::string over = retire;
  over[over.size() - 4] = 4;
  EXPECT_EQ(DecodeEnvelope(13, over, &envelope).code(), StatusCode::kCorruption);
  std::string flagged = retire;
  flagged[1] = 0x3;
  EXPECT_EQ(DecodeEnvelope(14, flagged, &envelope).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace wal::queue::local
