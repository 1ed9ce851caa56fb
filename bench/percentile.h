// The load generators' latency percentile (nearest rank, reorders `values`).
#pragma once

#include <algorithm>
#include <vector>

namespace bench {

inline double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  size_t index = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

}  // namespace bench
