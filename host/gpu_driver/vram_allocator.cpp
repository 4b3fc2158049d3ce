#include "host/gpu_driver/vram_allocator.h"

#include <cassert>

#include "host/common/status.h"

namespace hmmsim::host {

VramAllocator::VramAllocator(uint64_t bytes) : m_total(bytes >> kPageShift) {
  m_free.reserve(m_total);
  for (uint64_t f = m_total; f-- > 0;) m_free.push_back(f << kPageShift);
}

uint64_t VramAllocator::alloc() {
  if (m_free.empty()) return kNone;
  uint64_t pa = m_free.back();
  m_free.pop_back();
  return pa;
}

void VramAllocator::free(uint64_t pa) {
  assert(page_aligned(pa) && (pa >> kPageShift) < m_total);
  m_free.push_back(pa);
}

}  // namespace hmmsim::host
