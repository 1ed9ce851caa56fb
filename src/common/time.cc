#include "common/time.h"

namespace wal {
namespace {

class SystemWallClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace

const Clock& SystemClock() {
  static const SystemWallClock clock;
  return clock;
}

}  // namespace wal
