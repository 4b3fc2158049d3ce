#include "host/gpu_driver/vram_chunks.h"

#include <cstddef>

#include "host/common/status.h"

namespace hmmsim::host {

VramChunks::VramChunks(VramAllocator& vram, uint64_t chunk_bytes) : m_vram(vram), m_bytes(chunk_bytes) {}

uint64_t VramChunks::slot_in(std::map<uint64_t, uint64_t>& by_va, uint64_t bytes, uint64_t va, Slot& why) {
  auto it = by_va.find(va & ~(bytes - 1));
  if (it == by_va.end()) {
    why = Slot::Missing;
    return VramAllocator::kNone;
  }
  Chunk& c = m_by_pa.at(it->second);
  const uint64_t slot = (va - c.va_base) >> kPageShift;
  if (c.used[slot]) {
    why = Slot::Taken;
    return VramAllocator::kNone;
  }
  c.used[slot] = true;
  ++c.nused;
  return it->second + (slot << kPageShift);
}

uint64_t VramChunks::take_new(std::map<uint64_t, uint64_t>& by_va, uint64_t bytes, uint64_t va) {
  const uint64_t pa = m_vram.alloc_run(bytes >> kPageShift);
  if (pa == VramAllocator::kNone) return pa;
  const uint64_t va_base = va & ~(bytes - 1);
  by_va.emplace(va_base, pa);
  m_by_pa.emplace(pa, Chunk{va_base, bytes, std::vector<bool>(bytes >> kPageShift, false), 0});
  Slot unused;
  return slot_in(by_va, bytes, va, unused);
}

uint64_t VramChunks::lone_frame() {
  const uint64_t pa = m_vram.alloc();
  if (pa != VramAllocator::kNone) ++s_fallback_frames;
  return pa;
}

uint64_t VramChunks::chunk_bytes_for(uint64_t va, uint64_t lo, uint64_t hi) const {
  uint64_t size = m_bytes;
  while (size > kPageSize && ((va & ~(size - 1)) < lo || (va & ~(size - 1)) + size > hi))
    size = size > kPieceBytes ? kPieceBytes : kPageSize;
  return size;
}

uint64_t VramChunks::frame_for(uint64_t va, Fit fit, uint64_t lo, uint64_t hi) {
  const uint64_t want = chunk_bytes_for(va, lo, hi);
  if (want <= kPageSize && m_bytes <= kPageSize) return m_vram.alloc();
  // The levels this page may use, largest first: the configured chunk
  // where its range fits the VMA, then the 64 KiB piece (2 MiB chunks).
  struct Level {
    std::map<uint64_t, uint64_t>* by_va;
    uint64_t bytes;
    uint64_t* count;
  };
  Level levels[2];
  size_t nlevels = 0;
  if (want == m_bytes) levels[nlevels++] = {&m_chunk_by_va, m_bytes, &s_chunks_allocated};
  if (m_bytes > kPieceBytes && want >= kPieceBytes) levels[nlevels++] = {&m_piece_by_va, kPieceBytes, &s_pieces_allocated};
  for (size_t l = 0; l < nlevels; ++l) {
    Slot why = Slot::Missing;
    const uint64_t pa = slot_in(*levels[l].by_va, levels[l].bytes, va, why);
    if (pa != VramAllocator::kNone) return pa;
    // Evicting would not free a taken slot: a second copy is always alone.
    if (why == Slot::Taken) return lone_frame();
  }
  for (size_t l = 0; l < nlevels; ++l) {
    const uint64_t pa = take_new(*levels[l].by_va, levels[l].bytes, va);
    if (pa != VramAllocator::kNone) {
      ++*levels[l].count;
      return pa;
    }
    if (fit == Fit::Chunk) return pa;  // the caller evicts for the size it should have
  }
  // A VMA too small for any chunk takes 4 KiB frames by right, not as a fallback.
  if (!nlevels) return m_vram.alloc();
  return lone_frame();
}

void VramChunks::release(uint64_t pa) {
  auto it = m_by_pa.upper_bound(pa);
  if (it == m_by_pa.begin() || pa - std::prev(it)->first >= std::prev(it)->second.bytes) {
    m_vram.free(pa);  // a frame of its own
    return;
  }
  --it;
  Chunk& c = it->second;
  c.used[(pa - it->first) >> kPageShift] = false;
  if (--c.nused) return;
  for (uint64_t off = 0; off < c.bytes; off += kPageSize) m_vram.free(it->first + off);
  (c.bytes == m_bytes ? m_chunk_by_va : m_piece_by_va).erase(c.va_base);
  m_by_pa.erase(it);
}

}  // namespace hmmsim::host
