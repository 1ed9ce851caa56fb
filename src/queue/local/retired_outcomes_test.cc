#include "queue/local/retired_outcomes.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace wal::queue::local {
namespace {

using Outcome = RetiredOutcomes::Outcome;

TEST(RetiredOutcomesTest, OnlyIdsInTheStoredRangeAreSet) {
  RetiredOutcomes outcomes;
  outcomes.Reset(70);
  EXPECT_FALSE(outcomes.Set(70, Outcome::kDelivered)) << "nothing is settable before Extend";
  outcomes.Extend(100);
  EXPECT_TRUE(outcomes.Set(70, Outcome::kDelivered));
  EXPECT_TRUE(outcomes.Set(99, Outcome::kDeadLettered));
  EXPECT_FALSE(outcomes.Set(69, Outcome::kDelivered));
  EXPECT_FALSE(outcomes.Set(100, Outcome::kDelivered));
  EXPECT_FALSE(outcomes.Set(UINT64_MAX, Outcome::kDelivered)) << "a damaged id never grows the map";
  EXPECT_LT(outcomes.MemoryBytes(), 64u);
  EXPECT_EQ(outcomes.Get(70), Outcome::kDelivered);
  EXPECT_EQ(outcomes.Get(71), Outcome::kNotRecorded);
  EXPECT_EQ(outcomes.Get(99), Outcome::kDeadLettered);
  EXPECT_EQ(outcomes.Get(100), Outcome::kNotRecorded);
  EXPECT_TRUE(outcomes.Set(70, Outcome::kSuperseded)) << "a later record's word wins";
  EXPECT_EQ(outcomes.Get(70), Outcome::kSuperseded);
  outcomes.DropBelow(99);
  EXPECT_EQ(outcomes.first(), 99u);
  EXPECT_EQ(outcomes.Get(70), Outcome::kNotRecorded);
  EXPECT_EQ(outcomes.Get(99), Outcome::kDeadLettered);
  outcomes.DropBelow(1000);
  EXPECT_EQ(outcomes.first(), 100u) << "never past the end";
}

TEST(RetiredOutcomesTest, AgreesWithAMapThroughGrowthAndDrops) {
  std::mt19937_64 random(7);
  RetiredOutcomes outcomes;
  std::map<uint64_t, Outcome> model;
  outcomes.Reset(5);
  uint64_t first = 5, end = 5;
  for (int step = 0; step < 200000; ++step) {
    const uint64_t roll = random() % 100;
    if (roll < 60) {
      end += random() % 40;
      outcomes.Extend(end);
    } else if (roll < 98) {
      if (end == first) continue;
      const uint64_t id = first + random() % (end - first);
      const auto outcome = static_cast<Outcome>(random() % 4);
      ASSERT_TRUE(outcomes.Set(id, outcome));
      model[id] = outcome;
    } else {
      first = std::min(end, first + random() % 3000);
      outcomes.DropBelow(first);
      model.erase(model.begin(), model.lower_bound(first));
    }
  }
  for (uint64_t id = first > 100 ? first - 100 : 0; id < end + 100; ++id) {
    auto it = model.find(id);
    ASSERT_EQ(outcomes.Get(id), it == model.end() ? Outcome::kNotRecorded : it->second) << id;
  }
  // Two bits an id, with room for the vector's doubling and its lazily
  // compacted front: bytes follow the stored range, never the ids' magnitude.
  EXPECT_LE(outcomes.MemoryBytes(), (end - first) + 8 * 4096);
}

}  // namespace
}  // namespace wal::queue::local
