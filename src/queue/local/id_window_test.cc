#include "queue/local/id_window.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace wal::queue::local {
namespace {

std::vector<uint64_t> Pending(const IdWindow& window, uint64_t from = 0, uint64_t to = UINT64_MAX) {
  std::vector<uint64_t> ids;
  window.ForEachPending(from, to, [&](uint64_t id) { ids.push_back(id); });
  return ids;
}

TEST(IdWindowTest, NewIdsStartDoneAndOnlyPendingOnesHoldTheWatermark) {
  IdWindow window;
  window.Reset(10);
  EXPECT_EQ(window.low(), 10u);
  EXPECT_EQ(window.end(), 10u);
  window.Extend(20);
  EXPECT_EQ(window.end(), 20u);
  for (uint64_t id = 10; id < 20; ++id) EXPECT_FALSE(window.IsPending(id)) << id;
  window.SetPending(12);
  window.SetPending(15);
  EXPECT_TRUE(window.IsPending(12));
  EXPECT_EQ(Pending(window), (std::vector<uint64_t>{12, 15}));
  EXPECT_TRUE(window.Advance());
  EXPECT_EQ(window.low(), 12u);
  EXPECT_FALSE(window.Advance());
  window.SetDone(12);
  EXPECT_TRUE(window.Advance());
  EXPECT_EQ(window.low(), 15u);
  window.SetDone(15);
  window.Advance();
  EXPECT_EQ(window.low(), 20u) << "an all-done window advances to its end";
}

TEST(IdWindowTest, IsPendingIsFalseOutsideTheWindow) {
  IdWindow window;
  window.Reset(100);
  window.Extend(110);
  window.SetPending(100);
  EXPECT_FALSE(window.IsPending(99));
  EXPECT_FALSE(window.IsPending(110));
  EXPECT_FALSE(window.IsPending(UINT64_MAX));
  EXPECT_TRUE(window.IsPending(100));
}

TEST(IdWindowTest, SetOutsideTheWindowChangesNothing) {
  IdWindow window;
  window.Reset(1000);
  window.Extend(1010);
  // Below the watermark and past the end: refused, never written.
  EXPECT_FALSE(window.SetPending(5));
  EXPECT_FALSE(window.SetPending(1010));
  EXPECT_FALSE(window.SetDone(999));
  EXPECT_FALSE(window.SetPending(UINT64_MAX));
  EXPECT_TRUE(Pending(window).empty());
  EXPECT_TRUE(window.SetPending(1009));
  EXPECT_TRUE(window.SetDone(1009));
  window.Advance();
  EXPECT_EQ(window.low(), 1010u);
}

TEST(IdWindowTest, ExtendNeverShrinks) {
  IdWindow window;
  window.Reset(0);
  window.Extend(200);
  window.Extend(50);
  EXPECT_EQ(window.end(), 200u);
}

TEST(IdWindowTest, ForEachPendingHonoursItsRangeAcrossWords) {
  IdWindow window;
  window.Reset(3);  // not word-aligned
  window.Extend(300);
  const std::vector<uint64_t> set = {3, 63, 64, 65, 127, 128, 200, 299};
  for (uint64_t id : set) window.SetPending(id);
  EXPECT_EQ(Pending(window), set);
  EXPECT_EQ(Pending(window, 64, 128), (std::vector<uint64_t>{64, 65, 127}));
  EXPECT_EQ(Pending(window, 0, 4), (std::vector<uint64_t>{3}));
  EXPECT_TRUE(Pending(window, 300, 400).empty());
}

// Against a std::set model over a long random life, with the watermark moving
// far enough that the window drops and compacts its dead prefix many times.
TEST(IdWindowTest, MatchesASetModelOverALongRandomLife) {
  std::mt19937_64 random(11);
  IdWindow window;
  window.Reset(1000);
  std::set<uint64_t> model;
  uint64_t end = 1000;
  for (int step = 0; step < 200000; ++step) {
    const uint64_t choice = random() % 10;
    if (choice < 4) {
      const uint64_t new_end = end + 1 + random() % 8;
      window.Extend(new_end);
      for (uint64_t id = end; id < new_end; ++id) {
        if (random() % 3 == 0) {
          ASSERT_TRUE(window.SetPending(id));
          model.insert(id);
        }
      }
      end = new_end;
    } else if (!model.empty()) {
      // Retire mostly the oldest, so the watermark keeps moving.
      auto it = random() % 4 == 0 ? std::next(model.begin(), static_cast<long>(random() % model.size())) : model.begin();
      ASSERT_TRUE(window.SetDone(*it));
      model.erase(it);
    }
    window.Advance();
    ASSERT_EQ(window.low(), model.empty() ? end : *model.begin()) << step;
    ASSERT_EQ(window.end(), end);
    if (step % 1000 == 0) {
      ASSERT_EQ(Pending(window), std::vector<uint64_t>(model.begin(), model.end())) << step;
    }
  }
  EXPECT_GT(window.low(), 100000u);
  // Memory follows the live span, not the ids ever seen.
  EXPECT_LT(window.MemoryBytes(), 64u * 1024);
}

}  // namespace
}  // namespace wal::queue::local
