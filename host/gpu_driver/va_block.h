#pragma once
// UVM's VA block: the 2 MiB-aligned unit in which faults are serviced,
// prefetch regions are computed and (by default) VRAM is evicted. Page masks
// of one block are bitsets of its 512 4 KiB pages.
#include <bitset>
#include <cstddef>
#include <cstdint>

namespace hmmsim::host {

constexpr uint64_t kBlockBytes = 2ull << 20;
constexpr size_t kBlockPages = kBlockBytes / 4096;
constexpr size_t kBigPagePages = (64u << 10) / 4096;  // 16 pages in a 64 KiB big page

using PageMask = std::bitset<kBlockPages>;

inline uint64_t block_of(uint64_t va) { return va & ~(kBlockBytes - 1); }
inline size_t page_in_block(uint64_t va) { return (va & (kBlockBytes - 1)) >> 12; }

// Pages [first, first + n) of a block.
inline PageMask page_range(size_t first, size_t n) {
  PageMask m;
  for (size_t i = first; i < first + n && i < kBlockPages; ++i) m.set(i);
  return m;
}

}  // namespace hmmsim::host
