#include "common/histogram.h"

#include <algorithm>
#include <cmath>

namespace hmmsim::common {

size_t Histogram::index(double v) {
  if (!(v > 0)) return 0;
  int e = 0;
  const double m = std::frexp(v, &e);  // v = m * 2^e, m in [0.5, 1)
  if (e <= kMinExp) return 0;
  const int sub = std::min(kSub - 1, static_cast<int>((m - 0.5) * 2 * kSub));
  return 1 + size_t(e - kMinExp - 1) * kSub + size_t(sub);
}

double Histogram::middle(size_t i) {
  if (i == 0) return 0;
  const int e = static_cast<int>((i - 1) / kSub) + kMinExp + 1;
  const int sub = static_cast<int>((i - 1) % kSub);
  return std::ldexp(0.5 + (sub + 0.5) / (2.0 * kSub), e);
}

void Histogram::add(double v) {
  if (!(v >= 0)) v = 0;  // negative or NaN: a clock never runs backwards
  const size_t i = index(v);
  if (i >= m_buckets.size()) m_buckets.resize(i + 1, 0);
  ++m_buckets[i];
  m_min = m_count ? std::min(m_min, v) : v;
  m_max = m_count ? std::max(m_max, v) : v;
  ++m_count;
  m_sum += v;
}

double Histogram::percentile(double q) const {
  if (!m_count) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The sample of rank ceil(q * n) (1-based), as nearest-rank percentiles do.
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * double(m_count))));
  uint64_t seen = 0;
  for (size_t i = 0; i < m_buckets.size(); ++i) {
    seen += m_buckets[i];
    if (seen >= rank) return std::clamp(middle(i), m_min, m_max);
  }
  return m_max;
}

}  // namespace hmmsim::common
