#include "host/gpu_driver/vram_chunks.h"

#include "host/common/status.h"

namespace hmmsim::host {

VramChunks::VramChunks(VramAllocator& vram, uint64_t chunk_bytes) : m_vram(vram), m_bytes(chunk_bytes) {}

uint64_t VramChunks::frame_for(uint64_t va) {
  if (m_bytes <= kPageSize) return m_vram.alloc();
  const uint64_t va_base = va & ~(m_bytes - 1);
  const uint64_t slot = (va - va_base) >> kPageShift;
  auto it = m_by_va.find(va_base);
  if (it == m_by_va.end()) {
    const uint64_t pa = m_vram.alloc_run(m_bytes >> kPageShift);
    if (pa == VramAllocator::kNone) {
      ++s_fallback_frames;
      return m_vram.alloc();
    }
    ++s_chunks_allocated;
    it = m_by_va.emplace(va_base, pa).first;
    m_by_pa.emplace(pa, Chunk{va_base, std::vector<bool>(m_bytes >> kPageShift, false), 0});
  }
  Chunk& c = m_by_pa.at(it->second);
  if (c.used[slot]) {
    ++s_fallback_frames;
    return m_vram.alloc();
  }
  c.used[slot] = true;
  ++c.nused;
  return it->second + (slot << kPageShift);
}

void VramChunks::release(uint64_t pa) {
  auto it = m_by_pa.upper_bound(pa);
  if (it == m_by_pa.begin() || pa - std::prev(it)->first >= m_bytes) {
    m_vram.free(pa);  // a frame of its own
    return;
  }
  --it;
  Chunk& c = it->second;
  c.used[(pa - it->first) >> kPageShift] = false;
  if (--c.nused) return;
  for (uint64_t off = 0; off < m_bytes; off += kPageSize) m_vram.free(it->first + off);
  m_by_va.erase(c.va_base);
  m_by_pa.erase(it);
}

}  // namespace hmmsim::host
