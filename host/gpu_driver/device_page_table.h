#pragma once
// Builds the device's own radix page table (hwref/page_table_format.h) in
// VRAM, writing real entry bytes over the bus. A host-side shadow remembers
// which tables exist and which PTEs are valid, so updates never read VRAM.
// Every page has its 4 KiB PTE; when a whole aligned 64 KiB range is mapped
// with the same attributes to physically contiguous, aligned memory, a
// 64 KiB PTE is written over it, and when all 32 of a 2 MiB range are, a
// 2 MiB PTE in PD0 (the walker takes the largest valid page). Unmapping a
// page takes the large PTEs covering it away again.
#include <cstdint>
#include <map>
#include <vector>

#include "common/block_table.h"
#include "host/gpu_driver/device_bus.h"
#include "host/gpu_driver/vram_allocator.h"
#include "hwref/page_table_format.h"

namespace hmmsim::host {

class DevicePageTable {
 public:
  DevicePageTable(DeviceBus& bus, VramAllocator& vram);
  // Allocates and clears the top-level directory. False if VRAM is full.
  bool init();
  uint64_t root_pa() const { return m_root; }

  // Maps one 4 KiB page; allocates intermediate tables on demand.
  bool map(uint64_t va, uint64_t pa, hwref::pt::Aperture ap, bool writable, bool atomic = true);
  // Clears the PTE of `va` if mapped; returns whether it was.
  bool unmap(uint64_t va);
  // Clears every mapped PTE in [start, end); returns their VAs. Cost is
  // proportional to what is mapped, not to the size of the range.
  std::vector<uint64_t> unmap_range(uint64_t start, uint64_t end);
  // VAs in [start, end) mapped writable to system memory (remote).
  std::vector<uint64_t> writable_sysmem_in(uint64_t start, uint64_t end) const;
  // Allocates the directory levels covering [start, end) so later map()
  // calls cannot fail for lack of VRAM. False if VRAM ran out.
  bool ensure_tables(uint64_t start, uint64_t end);
  bool mapped(uint64_t va) const { return m_ptes.contains(va >> 12); }
  uint64_t pte(uint64_t va) const;  // shadow value, 0 if unmapped
  // Valid PTEs in [start, end).
  uint64_t mapped_in(uint64_t start, uint64_t end) const;

  // True once since the last call if a present directory entry changed
  // (a PD0 entry gained a 64 KiB table or a 2 MiB PTE, or lost one): the
  // TLB invalidate must then also drop page-walk-cache entries.
  bool take_directories_changed() {
    const bool c = m_dirs_changed;
    m_dirs_changed = false;
    return c;
  }
  // Pages of [start, end) mapped by a 64 KiB or a 2 MiB PTE right now.
  uint64_t big_mapped_in(uint64_t start, uint64_t end) const;
  uint64_t huge_mapped_in(uint64_t start, uint64_t end) const;

  uint64_t s_pte_writes = 0;
  uint64_t s_pde_writes = 0;
  uint64_t s_tables = 0;
  uint64_t s_big_pte_writes = 0, s_huge_pte_writes = 0;

 private:
  // One 2 MiB range: its dual PD0 entry and the large PTEs over it.
  struct Region {
    uint64_t pd0_entry_pa = 0;  // word 0 of its dual entry
    uint64_t big_table = 0;     // VRAM PA of its 64 KiB table, 0 if none yet
    uint32_t big_mask = 0;      // 64 KiB groups mapped by a 64 KiB PTE
    bool huge = false;          // mapped by a 2 MiB PTE
    uint64_t huge_pte = 0;
    uint8_t mapped[32] = {};    // valid 4 KiB PTEs per 64 KiB group
    uint64_t big_pte[32] = {};
  };
  // PA of the PT covering va; `pd0` (if given) gets the PD0 table's PA.
  uint64_t table_for(uint64_t va, bool create, uint64_t* pd0 = nullptr);
  void write_entry(uint64_t pa, uint64_t value);
  // Rewrites the large PTEs of va's 64 KiB group and 2 MiB range after
  // its 4 KiB PTE changed.
  void update_large(uint64_t va);
  bool set_pd0_word0(Region& r, uint64_t value);

  DeviceBus& m_bus;
  VramAllocator& m_vram;
  uint64_t m_root = VramAllocator::kNone;
  // key: (level << 56) | (va >> lo_bit of parent level) -> table PA
  std::map<uint64_t, uint64_t> m_tables;
  common::BlockTable<uint64_t> m_ptes;  // vpn -> PTE value
  std::map<uint64_t, Region> m_regions;  // va >> 21 -> region
  bool m_dirs_changed = false;
};

}  // namespace hmmsim::host
