// IdWindow: which ids of one log are still pending, from the consumed
// watermark to the log end, one bit per id.
//
// A bit set means done (retired, superseded, or not an entry at all, e.g. a
// RETIRE record); clear means pending. `low` is the consumed watermark: every
// id below it is done. Ids are only ever added at the end (Extend), and `low`
// only moves forward (Advance), dropping whole 64-id words, so memory follows
// the distance between the oldest pending id and the log end.
//
// Bounds: IsPending answers false outside [low, end). SetPending and SetDone
// change only ids in [low, end) and return false, changing nothing, for any
// other id, so a wrong id can never write outside the bitmap (the caller
// reports it).
//
// Threading: none; the owner serialises access (the local backend's mutex).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace wal::queue::local {

class IdWindow {
 public:
  // Forgets everything: the window becomes empty at `start` (low = end = start).
  void Reset(uint64_t start);

  uint64_t low() const { return low_; }
  uint64_t end() const { return end_; }

  // Makes ids up to `new_end` (exclusive) known; new ids start out done.
  void Extend(uint64_t new_end);

  bool IsPending(uint64_t id) const {
    if (id < low_ || id >= end_) return false;
    auto [word, bit] = Position(id);
    return ((words_[word] >> bit) & 1) == 0;
  }
  bool SetPending(uint64_t id);
  bool SetDone(uint64_t id);

  // Moves `low` over the contiguous done prefix. Returns whether it moved.
  bool Advance();

  // Calls fn(id) for every pending id in [from, to), in id order.
  template <typename Fn>
  void ForEachPending(uint64_t from, uint64_t to, Fn&& fn) const {
    from = std::max(from, low_);
    to = std::min(to, end_);
    uint64_t id = from;
    while (id < to) {
      auto [word, bit] = Position(id);
      uint64_t pending = ~words_[word] >> bit;
      while (pending != 0) {
        const uint64_t candidate = id + static_cast<uint64_t>(std::countr_zero(pending));
        if (candidate >= to) return;
        fn(candidate);
        pending &= pending - 1;
      }
      id += 64 - bit;
    }
  }

  size_t MemoryBytes() const { return words_.capacity() * sizeof(uint64_t); }

 private:
  std::pair<size_t, unsigned> Position(uint64_t id) const {
    const uint64_t offset = id - base_;
    return {head_ + static_cast<size_t>(offset / 64), static_cast<unsigned>(offset % 64)};
  }

  uint64_t base_ = 0;  // id of bit 0 of words_[head_]; a multiple of 64
  std::vector<uint64_t> words_;
  size_t head_ = 0;
  uint64_t low_ = 0;
  uint64_t end_ = 0;
};

}  // namespace wal::queue::local
