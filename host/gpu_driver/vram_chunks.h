#pragma once
// Where migrated pages go in VRAM. With a chunk size above 4 KiB, each
// aligned VA range of that size gets one physically contiguous, aligned
// chunk of frames, and a page sits at its VA's offset inside it, so a fully
// resident range can be mapped with one 64 KiB or 2 MiB PTE (UVM gives each
// 2 MiB VA block one 2 MiB root chunk, uvm_pmm_gpu.c). When no chunk can be
// had, a page asking for Fit::Any takes a smaller piece instead, as UVM
// splits root chunks: the 64 KiB piece of its 64 KiB VA range (2 MiB chunks
// only), else a lone frame. A taken slot (a COW copy of the same VA) also
// gets a lone frame. A VMA smaller than a chunk gets chunks that fit it.
#include <cstdint>
#include <map>
#include <vector>

#include "host/gpu_driver/vram_allocator.h"

namespace hmmsim::host {

class VramChunks {
 public:
  VramChunks(VramAllocator& vram, uint64_t chunk_bytes);
  // Chunk: only a slot in a chunk or piece the range holds, or in a new
  // chunk; the caller evicts and asks again before it settles for less.
  enum class Fit { Chunk, Any };
  static constexpr uint64_t kPieceBytes = 64ull << 10;
  // Frame for the page at `va` of a VMA [lo, hi), or VramAllocator::kNone.
  uint64_t frame_for(uint64_t va, Fit fit = Fit::Any, uint64_t lo = 0, uint64_t hi = ~0ull);
  // The chunk size a page gets: the largest of the configured size, 64 KiB
  // and 4 KiB whose aligned range around `va` lies inside [lo, hi), as UVM
  // sizes a block's chunks by its extent (block_gpu_chunk_size()).
  uint64_t chunk_bytes_for(uint64_t va, uint64_t lo, uint64_t hi) const;
  // The frame at `pa` is free again; a chunk or piece goes back whole once
  // all of its pages have left.
  void release(uint64_t pa);
  uint64_t chunk_bytes() const { return m_bytes; }
  uint64_t chunks() const { return m_by_pa.size(); }  // chunks and pieces held

  uint64_t s_chunks_allocated = 0, s_pieces_allocated = 0, s_fallback_frames = 0;

 private:
  struct Chunk {
    uint64_t va_base;
    uint64_t bytes;
    std::vector<bool> used;
    uint64_t nused = 0;
  };
  enum class Slot { Taken, Missing };
  // The page's frame in the chunk of `bytes` the map holds for its range;
  // kNone with `why` set when there is none or its slot is taken.
  uint64_t slot_in(std::map<uint64_t, uint64_t>& by_va, uint64_t bytes, uint64_t va, Slot& why);
  // A new chunk of `bytes` for the page's range, or kNone.
  uint64_t take_new(std::map<uint64_t, uint64_t>& by_va, uint64_t bytes, uint64_t va);
  uint64_t lone_frame();

  VramAllocator& m_vram;
  const uint64_t m_bytes;
  std::map<uint64_t, uint64_t> m_chunk_by_va;  // VA chunk base -> PA chunk base
  std::map<uint64_t, uint64_t> m_piece_by_va;  // VA 64 KiB base -> PA piece base
  std::map<uint64_t, Chunk> m_by_pa;           // PA base -> chunk or piece
};

}  // namespace hmmsim::host
