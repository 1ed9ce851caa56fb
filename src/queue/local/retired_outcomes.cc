#include "queue/local/retired_outcomes.h"

#include <algorithm>

namespace wal::queue::local {

void RetiredOutcomes::Reset(uint64_t start) {
  base_ = start - start % kPerWord;
  words_.clear();
  head_ = 0;
  first_ = end_ = start;
}

void RetiredOutcomes::Extend(uint64_t new_end) {
  if (new_end <= end_) return;
  const size_t words_needed = static_cast<size_t>((new_end - base_ + kPerWord - 1) / kPerWord);
  if (words_.size() - head_ < words_needed) words_.resize(head_ + words_needed, 0);
  end_ = new_end;
}

void RetiredOutcomes::DropBelow(uint64_t first) {
  if (first <= first_) return;
  first_ = std::min(first, end_);
  while (first_ - base_ >= kPerWord) {
    words_[head_] = 0;
    ++head_;
    base_ += kPerWord;
  }
  // Compacting only once the dropped prefix is at least half the vector keeps
  // the erase amortised O(1) per word.
  if (head_ >= 1024 && head_ * 2 >= words_.size()) {
    words_.erase(words_.begin(), words_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

bool RetiredOutcomes::Set(uint64_t id, Outcome outcome) {
  if (id < first_ || id >= end_) return false;
  const uint64_t offset = id - base_;
  uint64_t& word = words_[head_ + static_cast<size_t>(offset / kPerWord)];
  const unsigned shift = static_cast<unsigned>(offset % kPerWord) * 2;
  word = (word & ~(uint64_t{3} << shift)) | (static_cast<uint64_t>(outcome) << shift);
  return true;
}

RetiredOutcomes::Outcome RetiredOutcomes::Get(uint64_t id) const {
  if (id < first_ || id >= end_) return Outcome::kNotRecorded;
  const uint64_t offset = id - base_;
  const uint64_t word = words_[head_ + static_cast<size_t>(offset / kPerWord)];
  return static_cast<Outcome>((word >> (static_cast<unsigned>(offset % kPerWord) * 2)) & 3);
}

}  // namespace wal::queue::local
