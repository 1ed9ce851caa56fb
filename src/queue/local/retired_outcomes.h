// RetiredOutcomes: how each retired entry of the main log ended (delivered,
// dead-lettered, or stored again under a newer id), two bits per id, for the
// admin reads' per-record state.
//
// It covers the ids still stored, [first, end): recovery fills it from the
// RETIRE outcomes and the `supersedes` links on disk, so it is exactly what the
// log says; the backend drops the front as the log deletes consumed segments.
// Memory is two bits per stored record (2.5 MB for 10 million).
//
// Bounds: Set changes only ids in [first, end) and returns false for any
// other, so an id read from a damaged record can never grow it. Get answers
// kNotRecorded outside the range, and for retirements written without
// outcomes (by older binaries).
//
// Threading: none; the owner serialises access (the local backend's mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wal::queue::local {

class RetiredOutcomes {
 public:
  enum class Outcome : uint8_t { kNotRecorded = 0, kDelivered = 1, kDeadLettered = 2, kSuperseded = 3 };

  // Forgets everything; the range becomes empty at `start`.
  void Reset(uint64_t start);
  // Makes ids up to `new_end` (exclusive) settable; they start kNotRecorded.
  void Extend(uint64_t new_end);
  // Forgets ids below `first` (their records were deleted).
  void DropBelow(uint64_t first);

  bool Set(uint64_t id, Outcome outcome);
  // Sets `outcome` only if none is recorded for `id` yet: an entry retired
  // twice (a replay, a duplicated RETIRE) keeps how it first ended.
  void SetIfUnrecorded(uint64_t id, Outcome outcome) {
    if (Get(id) == Outcome::kNotRecorded) Set(id, outcome);
  }
  Outcome Get(uint64_t id) const;

  uint64_t first() const { return first_; }
  uint64_t end() const { return end_; }
  size_t MemoryBytes() const { return words_.capacity() * sizeof(uint64_t); }

 private:
  static constexpr uint64_t kPerWord = 32;

  uint64_t base_ = 0;  // id of slot 0 of words_[head_]; a multiple of kPerWord
  std::vector<uint64_t> words_;
  size_t head_ = 0;
  uint64_t first_ = 0;
  uint64_t end_ = 0;
};

}  // namespace wal::queue::local
