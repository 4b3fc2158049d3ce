#pragma once
// VRAM page allocator: 4 KiB frames of device memory. Page tables and
// migrated data share it. Single frames come lowest address first, aligned
// runs (64 KiB pieces, 2 MiB root chunks) highest first, so the page tables
// and lone frames gather at the bottom and do not break up the root chunks
// that eviction frees at the top (UVM keeps its page tables in chunks of
// their own for the same reason). Both orders are deterministic.
#include <cstdint>
#include <vector>

namespace hmmsim::host {

class VramAllocator {
 public:
  explicit VramAllocator(uint64_t bytes);
  static constexpr uint64_t kNone = ~0ull;
  static constexpr uint64_t kRootFrames = 512;  // 2 MiB
  uint64_t alloc();  // VRAM PA of the lowest free frame, or kNone
  // PA of `frames` free frames in a row, aligned to their size (`frames` a
  // power of two), or kNone. Highest address first.
  uint64_t alloc_run(uint64_t frames);
  void free(uint64_t pa);
  uint64_t free_frames() const { return m_nfree; }
  uint64_t total_frames() const { return m_total; }

 private:
  bool run_free(uint64_t base, uint64_t frames) const;
  void take(uint64_t f);

  uint64_t m_total;
  uint64_t m_nfree;
  uint64_t m_low = 0;                // no free frame below this one
  std::vector<bool> m_is_free;       // per frame
  std::vector<uint32_t> m_root_free;  // free frames per 2 MiB region: skips full or busy ones
};

}  // namespace hmmsim::host
