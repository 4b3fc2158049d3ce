#include "host/gpu_driver/vram_allocator.h"

#include <cassert>

#include "host/common/status.h"

namespace hmmsim::host {

VramAllocator::VramAllocator(uint64_t bytes)
    : m_total(bytes >> kPageShift),
      m_nfree(m_total),
      m_is_free(m_total, true),
      m_root_free((m_total + kRootFrames - 1) / kRootFrames, 0) {
  for (uint64_t f = 0; f < m_total; ++f) ++m_root_free[f / kRootFrames];
}

void VramAllocator::take(uint64_t f) {
  m_is_free[f] = false;
  --m_root_free[f / kRootFrames];
  --m_nfree;
}

uint64_t VramAllocator::alloc() {
  if (!m_nfree) return kNone;
  uint64_t f = m_low;
  while (f < m_total) {
    if (f % kRootFrames == 0 && !m_root_free[f / kRootFrames]) {
      f += kRootFrames;  // a full 2 MiB region
      continue;
    }
    if (m_is_free[f]) break;
    ++f;
  }
  assert(f < m_total);
  take(f);
  m_low = f + 1;
  return f << kPageShift;
}

bool VramAllocator::run_free(uint64_t base, uint64_t frames) const {
  if (frames >= kRootFrames) {
    for (uint64_t r = base / kRootFrames; r < (base + frames) / kRootFrames; ++r)
      if (m_root_free[r] != kRootFrames) return false;
    return true;
  }
  if (m_root_free[base / kRootFrames] < frames) return false;
  for (uint64_t f = base; f < base + frames; ++f)
    if (!m_is_free[f]) return false;
  return true;
}

uint64_t VramAllocator::alloc_run(uint64_t frames) {
  assert(frames && (frames & (frames - 1)) == 0);
  if (frames > m_nfree) return kNone;
  for (uint64_t base = (m_total / frames) * frames; base >= frames;) {
    base -= frames;
    // A 2 MiB region with too few free frames holds no smaller run either.
    if (frames < kRootFrames && m_root_free[base / kRootFrames] < frames) {
      base -= base % kRootFrames;
      continue;
    }
    if (!run_free(base, frames)) continue;
    for (uint64_t f = base; f < base + frames; ++f) take(f);
    return base << kPageShift;
  }
  return kNone;
}

void VramAllocator::free(uint64_t pa) {
  const uint64_t f = pa >> kPageShift;
  assert(page_aligned(pa) && f < m_total && !m_is_free[f]);
  m_is_free[f] = true;
  ++m_root_free[f / kRootFrames];
  ++m_nfree;
  if (f < m_low) m_low = f;
}

}  // namespace hmmsim::host
