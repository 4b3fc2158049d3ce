#pragma once
// Builds the device's own radix page table (hwref/page_table_format.h) in
// VRAM, writing real entry bytes over the bus. A host-side shadow remembers
// which tables exist and which PTEs are valid, so updates never read VRAM.
#include <cstdint>
#include <map>
#include <vector>

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
  bool map(uint64_t va, uint64_t pa, hwref::pt::Aperture ap, bool writable);
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
  bool mapped(uint64_t va) const { return m_ptes.count(va >> 12) != 0; }
  uint64_t pte(uint64_t va) const;  // shadow value, 0 if unmapped
  // Valid PTEs in [start, end).
  uint64_t mapped_in(uint64_t start, uint64_t end) const;

  uint64_t s_pte_writes = 0;
  uint64_t s_pde_writes = 0;
  uint64_t s_tables = 0;

 private:
  uint64_t table_for(uint64_t va, bool create);  // PA of the PT covering va
  void write_entry(uint64_t pa, uint64_t value);

  DeviceBus& m_bus;
  VramAllocator& m_vram;
  uint64_t m_root = VramAllocator::kNone;
  // key: (level << 56) | (va >> lo_bit of parent level) -> table PA
  std::map<uint64_t, uint64_t> m_tables;
  std::map<uint64_t, uint64_t> m_ptes;  // vpn -> PTE value
};

}  // namespace hmmsim::host
