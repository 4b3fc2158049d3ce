#pragma once
// VRAM page allocator: 4 KiB frames of device memory, lowest address first
// (deterministic). Page tables and migrated data share it. Aligned runs of
// frames (64 KiB or 2 MiB chunks) let the driver map large pages.
#include <cstdint>
#include <vector>

namespace hmmsim::host {

class VramAllocator {
 public:
  explicit VramAllocator(uint64_t bytes);
  static constexpr uint64_t kNone = ~0ull;
  uint64_t alloc();  // VRAM PA of a free frame, or kNone
  // PA of `frames` free frames in a row, aligned to their size (`frames` a
  // power of two), or kNone. Lowest address first.
  uint64_t alloc_run(uint64_t frames);
  void free(uint64_t pa);
  uint64_t free_frames() const { return m_nfree; }
  uint64_t total_frames() const { return m_total; }

 private:
  // Drops stale and duplicate stack entries (keeping each free frame's
  // topmost one, so alloc() order is unchanged).
  void compact();

  uint64_t m_total;
  uint64_t m_nfree;
  std::vector<uint64_t> m_free;  // stack; top is the lowest free address; may hold stale entries
  std::vector<bool> m_is_free;   // per frame: what counts
};

}  // namespace hmmsim::host
