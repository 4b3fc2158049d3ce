#pragma once
// An in-memory ITableMemory for the plain-C++ translation cores (no SystemC):
// sparse 8-byte words, a fixed latency per read, and a log of every read
// (address, length, arrival time). PageTableWriter fills it with the
// device's page-table format (hwref/page_table_format.h): 4 KiB, 64 KiB and
// 2 MiB mappings, directories created on first use from a bump allocator.
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "hw/gmmu/page_walker.h"
#include "hwref/page_table_format.h"

namespace hmmsim::hwtest {

class FakeTableMemory : public hw::ITableMemory {
 public:
  struct Read {
    uint64_t pa;
    unsigned len;
    double at;  // arrival time, ns
  };

  explicit FakeTableMemory(double latency_ns = 10.0) : latency_ns(latency_ns) {}

  bool read(uint64_t pa, void* dst, unsigned len, double& t) override {
    reads.push_back(Read{pa, len, t});
    t += latency_ns;
    uint8_t* d = static_cast<uint8_t*>(dst);
    for (unsigned i = 0; i < len; i += 8) {
      const uint64_t v = peek(pa + i);
      std::memcpy(d + i, &v, len - i < 8 ? len - i : 8);
    }
    return bus_errors.count(pa) == 0;
  }

  // Untimed, unlogged access (what the "driver" uses to build tables).
  uint64_t peek(uint64_t pa) const {
    auto it = words.find(pa);
    return it == words.end() ? 0 : it->second;
  }
  void poke(uint64_t pa, uint64_t v) { words[pa] = v; }

  double latency_ns;
  std::map<uint64_t, uint64_t> words;  // 8-byte aligned PA -> word
  std::vector<Read> reads;
  std::set<uint64_t> bus_errors;       // reads starting here fail
};

// Writes page tables into a FakeTableMemory. Tables are 4 KiB aligned (the
// PDE address field starts at bit 12), root first.
class PageTableWriter {
 public:
  explicit PageTableWriter(FakeTableMemory& m, uint64_t root = 0x100000, uint64_t stride = 0x1000)
      : m_m(m), m_root(root), m_next(root + stride), m_stride(stride) {}
  uint64_t root() const { return m_root; }

  // Base of the table at `level` (0 = PD3 .. 3 = PD0, 4 = 4 KiB PT) that
  // translates `va`, creating the directories above it.
  uint64_t table(unsigned level, uint64_t va) {
    namespace pt = hwref::pt;
    uint64_t t = m_root;
    for (unsigned l = 0; l < level; ++l) {
      const uint64_t e_addr = t + pt::entry_offset(l, va);  // PD0: word 1 (4 KiB table)
      uint64_t e = m_m.peek(e_addr);
      if (!pt::pde_present(e)) {
        e = pt::make_pde(alloc());
        m_m.poke(e_addr, e);
      }
      t = pt::address(e);
    }
    return t;
  }
  // Address of the entry for `va` at `level` (PD0: word 0 of the dual entry).
  uint64_t entry(unsigned level, uint64_t va) {
    namespace pt = hwref::pt;
    const uint64_t t = table(level, va);
    return level == pt::kPd0 ? t + pt::pd0_offset(va) : t + pt::entry_offset(level, va);
  }
  // The 64 KiB table of va's 2 MiB range (created, empty, on first use).
  uint64_t big_table(uint64_t va) {
    namespace pt = hwref::pt;
    const uint64_t w0 = pd0_word0(va);
    uint64_t e = m_m.peek(w0);
    if (!pt::pde_present(e) || pt::pd0_is_pte(e)) {
      e = pt::make_pde(alloc());
      m_m.poke(w0, e);
    }
    return pt::address(e);
  }
  uint64_t pd0_word0(uint64_t va) { return table(hwref::pt::kPd0, va) + hwref::pt::pd0_offset(va); }

  // PTE addresses (created on the way).
  uint64_t pte_4k(uint64_t va) { return table(4, va) + hwref::pt::entry_offset(4, va); }
  uint64_t pte_64k(uint64_t va) { return big_table(va) + hwref::pt::big_pte_offset(va); }

  void map_4k(uint64_t va, uint64_t pa, hwref::pt::Aperture ap = hwref::pt::Aperture::Vram, bool writable = true,
              bool atomic = true) {
    m_m.poke(pte_4k(va), hwref::pt::make_pte(pa, ap, writable, atomic));
  }
  void map_64k(uint64_t va, uint64_t pa, hwref::pt::Aperture ap = hwref::pt::Aperture::Vram, bool writable = true,
               bool atomic = true) {
    m_m.poke(pte_64k(va), hwref::pt::make_pte(pa, ap, writable, atomic));
  }
  void map_2m(uint64_t va, uint64_t pa, hwref::pt::Aperture ap = hwref::pt::Aperture::Vram, bool writable = true,
              bool atomic = true) {
    m_m.poke(pd0_word0(va), hwref::pt::make_pte(pa, ap, writable, atomic));
  }
  // Clears the directory entry for `va` at `level` (PD0: both words).
  void clear(unsigned level, uint64_t va) {
    const uint64_t e = entry(level, va);
    m_m.poke(e, 0);
    if (level == hwref::pt::kPd0) m_m.poke(e + 8, 0);
  }

 private:
  uint64_t alloc() {
    const uint64_t t = m_next;
    m_next += m_stride;
    return t;
  }
  FakeTableMemory& m_m;
  const uint64_t m_root;
  uint64_t m_next;
  const uint64_t m_stride;
};

}  // namespace hmmsim::hwtest
