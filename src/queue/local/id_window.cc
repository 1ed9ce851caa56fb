#include "queue/local/id_window.h"

#include <algorithm>

namespace wal::queue::local {

void IdWindow::Reset(uint64_t start) {
  base_ = start & ~uint64_t{63};
  words_.clear();
  head_ = 0;
  low_ = end_ = start;
}

void IdWindow::Extend(uint64_t new_end) {
  if (new_end <= end_) return;
  const size_t words_needed = (new_end - base_ + 63) / 64;
  while (words_.size() - head_ < words_needed) words_.push_back(~uint64_t{0});
  end_ = new_end;
}

bool IdWindow::SetPending(uint64_t id) {
  if (id < low_ || id >= end_) return false;
  auto [word, bit] = Position(id);
  words_[word] &= ~(uint64_t{1} << bit);
  return true;
}

bool IdWindow::SetDone(uint64_t id) {
  if (id < low_ || id >= end_) return false;
  auto [word, bit] = Position(id);
  words_[word] |= uint64_t{1} << bit;
  return true;
}

bool IdWindow::Advance() {
  const uint64_t before = low_;
  while (low_ < end_) {
    auto [word, bit] = Position(low_);
    const uint64_t pending_from_low = ~words_[word] >> bit;
    if (pending_from_low == 0) {
      low_ = std::min(end_, low_ - bit + 64);
      continue;
    }
    low_ = std::min(end_, low_ + static_cast<uint64_t>(std::countr_zero(pending_from_low)));
    break;
  }
  while (low_ - base_ >= 64) {
    ++head_;
    base_ += 64;
  }
  // Compacting only once the dead prefix is large and at least half the vector
  // keeps the erase amortised O(1) per word.
  if (head_ >= 1024 && head_ * 2 >= words_.size()) {
    words_.erase(words_.begin(), words_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return low_ != before;
}

}  // namespace wal::queue::local
