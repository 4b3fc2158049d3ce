#pragma once
// Writes the device page table (hwref/page_table_format.h) into VRAM by hand,
// the way the driver would, but untimed (VramCore::read/write). Tables come
// from a bump allocator: root at `root`, then `root + stride`, ...
#include <cstdint>

#include "hw/vram.h"
#include "hwref/page_table_format.h"

namespace hmmsim::sctest {

class PtBuilder {
 public:
  PtBuilder(hw::VramCore& v, uint64_t root, uint64_t stride = 0x4000)
      : m_v(v), m_root(root), m_next(root + stride), m_stride(stride) {}
  uint64_t root() const { return m_root; }

  // Address of the PTE for `va`, creating the directories on the way.
  uint64_t pte_addr(uint64_t va) {
    namespace pt = hwref::pt;
    uint64_t table = m_root;
    for (unsigned level = 0; level + 1 < pt::kLevels; ++level) {
      const uint64_t e_addr = table + pt::entry_offset(level, va);
      const uint64_t e = read64(e_addr);
      if (pt::pde_present(e)) {
        table = pt::address(e);
        continue;
      }
      const uint64_t t = m_next;
      m_next += m_stride;
      write64(e_addr, pt::make_pde(t));
      table = t;
    }
    return table + pt::entry_offset(pt::kLevels - 1, va);
  }
  void map(uint64_t va, uint64_t pa, hwref::pt::Aperture ap, bool writable, bool atomic = true) {
    write64(pte_addr(va), hwref::pt::make_pte(pa, ap, writable, atomic));
  }
  void unmap(uint64_t va) { write64(pte_addr(va), 0); }

  // Address of word 0 of va's dual PD0 entry, creating the upper levels.
  uint64_t pd0_addr(uint64_t va) {
    namespace pt = hwref::pt;
    uint64_t table = m_root;
    for (unsigned level = 0; level < pt::kPd0; ++level) {
      const uint64_t e_addr = table + pt::entry_offset(level, va);
      const uint64_t e = read64(e_addr);
      if (pt::pde_present(e)) {
        table = pt::address(e);
        continue;
      }
      const uint64_t t = m_next;
      m_next += m_stride;
      write64(e_addr, pt::make_pde(t));
      table = t;
    }
    return table + pt::pd0_offset(va);
  }
  // A 2 MiB PTE in PD0 (pa 2 MiB aligned).
  void map_huge(uint64_t va, uint64_t pa, hwref::pt::Aperture ap, bool writable, bool atomic = true) {
    write64(pd0_addr(va), hwref::pt::make_pte(pa, ap, writable, atomic));
  }
  // A 64 KiB PTE in the range's 64 KiB table (created on first use).
  void map_big(uint64_t va, uint64_t pa, hwref::pt::Aperture ap, bool writable, bool atomic = true) {
    namespace pt = hwref::pt;
    const uint64_t w0 = pd0_addr(va);
    uint64_t big = read64(w0);
    if (!pt::pde_present(big) || pt::pd0_is_pte(big)) {
      big = pt::make_pde(m_next);
      m_next += m_stride;
      write64(w0, big);
    }
    write64(pt::address(big) + pt::big_pte_offset(va), pt::make_pte(pa, ap, writable, atomic));
  }

  uint64_t read64(uint64_t pa) const {
    uint64_t v = 0;
    m_v.read(pa, reinterpret_cast<uint8_t*>(&v), 8);
    return v;
  }
  void write64(uint64_t pa, uint64_t v) { m_v.write(pa, reinterpret_cast<const uint8_t*>(&v), 8); }

 private:
  hw::VramCore& m_v;
  const uint64_t m_root;
  uint64_t m_next;
  const uint64_t m_stride;
};

}  // namespace hmmsim::sctest
