#pragma once
// Where migrated pages go in VRAM. With a chunk size above 4 KiB, each
// aligned VA range of that size gets one physically contiguous, aligned
// chunk of frames, and a page sits at its VA's offset inside it, so a fully
// resident range can be mapped with one 64 KiB or 2 MiB PTE (like UVM's
// per-VA-block chunks). When no chunk fits, or the page's slot is taken (a
// COW copy of the same VA), the page gets a frame of its own.
#include <cstdint>
#include <map>
#include <vector>

#include "host/gpu_driver/vram_allocator.h"

namespace hmmsim::host {

class VramChunks {
 public:
  VramChunks(VramAllocator& vram, uint64_t chunk_bytes);
  // Frame for the page at `va`, or VramAllocator::kNone if VRAM is full.
  uint64_t frame_for(uint64_t va);
  // The frame at `pa` is free again; a chunk goes back whole once all of
  // its pages have left.
  void release(uint64_t pa);
  uint64_t chunk_bytes() const { return m_bytes; }
  uint64_t chunks() const { return m_by_pa.size(); }

  uint64_t s_chunks_allocated = 0, s_fallback_frames = 0;

 private:
  struct Chunk {
    uint64_t va_base;
    std::vector<bool> used;
    uint64_t nused = 0;
  };
  VramAllocator& m_vram;
  const uint64_t m_bytes;
  std::map<uint64_t, uint64_t> m_by_va;  // VA chunk base -> PA chunk base
  std::map<uint64_t, Chunk> m_by_pa;     // PA chunk base -> chunk
};

}  // namespace hmmsim::host
