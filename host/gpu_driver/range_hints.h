#pragma once
// Per-range hints (cudaMemAdvise's preferred location, read-mostly): a value
// per VA range, the ranges kept disjoint and merged with neighbours that say
// the same. T{} means "no hint" and is never stored.
#include <cstdint>
#include <iterator>
#include <map>
#include <vector>

namespace hmmsim::host {

template <class T>
class RangeHints {
 public:
  struct Range {
    uint64_t end;
    T value;
  };

  void set(uint64_t start, uint64_t end, T value) {
    if (end <= start) return;
    // Cut what overlaps, keep the parts outside.
    auto it = m_ranges.upper_bound(start);
    if (it != m_ranges.begin() && std::prev(it)->second.end > start) --it;
    std::vector<std::pair<uint64_t, Range>> keep;
    while (it != m_ranges.end() && it->first < end) {
      if (it->first < start) keep.push_back({it->first, Range{start, it->second.value}});
      if (it->second.end > end) keep.push_back({end, Range{it->second.end, it->second.value}});
      it = m_ranges.erase(it);
    }
    for (auto& k : keep) m_ranges.insert(k);
    if (value == T{}) return;
    auto cur = m_ranges.emplace(start, Range{end, value}).first;
    if (cur != m_ranges.begin()) {
      auto prev = std::prev(cur);
      if (prev->second.end == cur->first && prev->second.value == value) {
        prev->second.end = cur->second.end;
        m_ranges.erase(cur);
        cur = prev;
      }
    }
    auto next = std::next(cur);
    if (next != m_ranges.end() && cur->second.end == next->first && next->second.value == value) {
      cur->second.end = next->second.end;
      m_ranges.erase(next);
    }
  }

  T at(uint64_t va) const {
    auto it = m_ranges.upper_bound(va);
    if (it == m_ranges.begin()) return T{};
    --it;
    return va < it->second.end ? it->second.value : T{};
  }

  // start -> (end, value), disjoint, in address order.
  const std::map<uint64_t, Range>& ranges() const { return m_ranges; }

 private:
  std::map<uint64_t, Range> m_ranges;
};

}  // namespace hmmsim::host
