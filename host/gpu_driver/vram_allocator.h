#pragma once
// VRAM page allocator: 4 KiB frames of device memory, lowest address first
// (deterministic). Page tables and migrated data share it.
#include <cstdint>
#include <vector>

namespace hmmsim::host {

class VramAllocator {
 public:
  explicit VramAllocator(uint64_t bytes);
  static constexpr uint64_t kNone = ~0ull;
  uint64_t alloc();  // VRAM PA of a free frame, or kNone
  void free(uint64_t pa);
  uint64_t free_frames() const { return m_free.size(); }
  uint64_t total_frames() const { return m_total; }

 private:
  uint64_t m_total;
  std::vector<uint64_t> m_free;  // stack; top is the lowest free address
};

}  // namespace hmmsim::host
