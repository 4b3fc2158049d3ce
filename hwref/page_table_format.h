#pragma once
// The device's own page-table format (not x86's): a Pascal-like radix tree
// with a 49-bit VA, after NVIDIA's uvm_pascal_mmu.c (open-gpu-kernel-modules,
// kernel-open/nvidia-uvm/; docs/references.md):
//   PD3  VA[48:47]   4 entries x 8 B
//   PD2  VA[46:38] 512 entries x 8 B
//   PD1  VA[37:29] 512 entries x 8 B
//   PD0  VA[28:21] 256 entries x 16 B, dual:
//          word 0 (offset 0): a 2 MiB PTE (bit 0 set), or the address of the
//                             64 KiB page table of this 2 MiB range;
//          word 1 (offset 8): the address of its 4 KiB page table
//   PT64 VA[20:16]  32 entries x 8 B (64 KiB pages, a 256-byte table)
//   PT   VA[20:12] 512 entries x 8 B (4 KiB pages)
// Entry words: bits 2:1 aperture (0 = invalid), bits 55:12 physical address;
// PTEs add bit 0 valid, bit 6 read-only, bit 7 atomic-disable. A walk takes
// the largest valid page: a 2 MiB PTE, else a valid 64 KiB PTE, else the
// 4 KiB PTE (docs/page-table-format.md).
#include <cstdint>

namespace hmmsim::hwref::pt {

constexpr unsigned kVaBits = 49;
constexpr unsigned kLevels = 5;  // PD3, PD2, PD1, PD0, PT

enum class Aperture : uint8_t { Invalid = 0, Vram = 1, SysCoherent = 2, SysNonCoherent = 3 };

struct LevelInfo {
  unsigned lo_bit;       // lowest VA bit indexing this level
  unsigned bits;         // index width
  unsigned entry_bytes;  // 8, or 16 for the dual PD0
};

constexpr LevelInfo kLevel[kLevels] = {
    {47, 2, 8}, {38, 9, 8}, {29, 9, 8}, {21, 8, 16}, {12, 9, 8},
};

constexpr uint64_t index(unsigned level, uint64_t va) {
  return (va >> kLevel[level].lo_bit) & ((1ull << kLevel[level].bits) - 1);
}
// Byte offset of the entry for `va` inside a table of `level`. For PD0 this
// is the small-page (4 KiB table) half of the dual entry.
constexpr uint64_t entry_offset(unsigned level, uint64_t va) {
  uint64_t off = index(level, va) * kLevel[level].entry_bytes;
  return level == 3 ? off + 8 : off;
}
constexpr uint64_t table_bytes(unsigned level) {
  return (1ull << kLevel[level].bits) * kLevel[level].entry_bytes;
}

constexpr uint64_t kAddrMask = ((1ull << 56) - 1) & ~0xFFFull;
constexpr uint64_t kPteValid = 1ull << 0;
constexpr uint64_t kPteReadOnly = 1ull << 6;
constexpr uint64_t kPteAtomicDisable = 1ull << 7;

constexpr uint64_t make_pde(uint64_t table_pa) {
  return (table_pa & kAddrMask) | (uint64_t(Aperture::Vram) << 1);
}
constexpr uint64_t make_pte(uint64_t pa, Aperture ap, bool writable, bool atomic = true) {
  return (pa & kAddrMask) | (uint64_t(ap) << 1) | kPteValid | (writable ? 0 : kPteReadOnly) |
         (atomic ? 0 : kPteAtomicDisable);
}
constexpr Aperture aperture(uint64_t e) { return static_cast<Aperture>((e >> 1) & 3); }
constexpr uint64_t address(uint64_t e) { return e & kAddrMask; }
constexpr bool pde_present(uint64_t e) { return aperture(e) != Aperture::Invalid; }
constexpr bool pte_valid(uint64_t e) { return (e & kPteValid) && aperture(e) != Aperture::Invalid; }
constexpr bool pte_writable(uint64_t e) { return !(e & kPteReadOnly); }
constexpr bool pte_atomic(uint64_t e) { return !(e & kPteAtomicDisable); }

// PD0's dual entry and the 64 KiB page table.
constexpr unsigned kPd0 = 3;
constexpr uint64_t pd0_offset(uint64_t va) { return index(kPd0, va) * 16; }  // word 0; word 1 is +8
constexpr unsigned kBigShift = 16;
constexpr unsigned kHugeShift = 21;
constexpr uint64_t kBigTableBytes = 32 * 8;
constexpr uint64_t big_pte_offset(uint64_t va) { return ((va >> kBigShift) & 31) * 8; }
constexpr bool pd0_is_pte(uint64_t word0) { return pte_valid(word0); }

}  // namespace hmmsim::hwref::pt
