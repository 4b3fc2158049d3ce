#include "host/gpu_driver/vram_allocator.h"

#include <cassert>

#include "host/common/status.h"

namespace hmmsim::host {

VramAllocator::VramAllocator(uint64_t bytes)
    : m_total(bytes >> kPageShift), m_nfree(m_total), m_is_free(m_total, true) {
  m_free.reserve(m_total);
  for (uint64_t f = m_total; f-- > 0;) m_free.push_back(f << kPageShift);
}

uint64_t VramAllocator::alloc() {
  // Frames taken by alloc_run stay on the stack until they surface here.
  while (!m_free.empty() && !m_is_free[m_free.back() >> kPageShift]) m_free.pop_back();
  if (m_free.empty()) return kNone;
  uint64_t pa = m_free.back();
  m_free.pop_back();
  m_is_free[pa >> kPageShift] = false;
  --m_nfree;
  return pa;
}

uint64_t VramAllocator::alloc_run(uint64_t frames) {
  assert(frames && (frames & (frames - 1)) == 0);
  if (frames > m_nfree) return kNone;
  for (uint64_t base = 0; base + frames <= m_total; base += frames) {
    uint64_t f = base;
    while (f < base + frames && m_is_free[f]) ++f;
    if (f < base + frames) continue;
    for (f = base; f < base + frames; ++f) m_is_free[f] = false;
    m_nfree -= frames;
    return base << kPageShift;
  }
  return kNone;
}

void VramAllocator::free(uint64_t pa) {
  assert(page_aligned(pa) && (pa >> kPageShift) < m_total && !m_is_free[pa >> kPageShift]);
  m_is_free[pa >> kPageShift] = true;
  ++m_nfree;
  m_free.push_back(pa);
  // Runs that come and go with no alloc() in between would grow the stack
  // without bound: every frame they free adds an entry, none is popped.
  if (m_free.size() > 2 * m_total) compact();
}

void VramAllocator::compact() {
  std::vector<bool> seen(m_total, false);
  std::vector<uint64_t> keep;
  keep.reserve(m_nfree);
  for (auto it = m_free.rbegin(); it != m_free.rend(); ++it) {
    const uint64_t f = *it >> kPageShift;
    if (m_is_free[f] && !seen[f]) {
      seen[f] = true;
      keep.push_back(*it);
    }
  }
  m_free.assign(keep.rbegin(), keep.rend());
}

}  // namespace hmmsim::host
