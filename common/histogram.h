#pragma once
// A distribution of non-negative samples in bounded memory: log2 buckets,
// each split into 16 linear sub-buckets, so a percentile is known to within
// about 3 % of its value whatever the count. Exact count, sum, min and max.
// Plain C++: host/ and hw/ record into it, sim/ reports it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hmmsim::common {

class Histogram {
 public:
  void add(double v);
  uint64_t count() const { return m_count; }
  double sum() const { return m_sum; }
  double mean() const { return m_count ? m_sum / double(m_count) : 0.0; }
  double min() const { return m_count ? m_min : 0.0; }
  double max() const { return m_count ? m_max : 0.0; }
  // The value below which a fraction `q` (0..1) of samples fall: the middle
  // of the sub-bucket holding it, clamped to [min, max]; 0 when empty.
  double percentile(double q) const;

 private:
  static constexpr int kSub = 16;
  static constexpr int kMinExp = -20;  // values below 2^-20 count as the lowest bucket
  static size_t index(double v);
  static double middle(size_t i);
  std::vector<uint64_t> m_buckets;  // grown on demand
  uint64_t m_count = 0;
  double m_sum = 0, m_min = 0, m_max = 0;
};

}  // namespace hmmsim::common
