#include "host/gpu_driver/device_page_table.h"

#include <vector>

namespace hmmsim::host {

namespace pt = hwref::pt;

DevicePageTable::DevicePageTable(DeviceBus& bus, VramAllocator& vram) : m_bus(bus), m_vram(vram) {}

void DevicePageTable::write_entry(uint64_t pa, uint64_t value) { m_bus.vram_write(pa, &value, 8); }

bool DevicePageTable::init() {
  m_root = m_vram.alloc();
  if (m_root == VramAllocator::kNone) return false;
  ++s_tables;
  // Freshly allocated VRAM may hold old bytes: clear the directory.
  std::vector<uint8_t> zero(pt::table_bytes(0), 0);
  m_bus.vram_write(m_root, zero.data(), zero.size());
  return true;
}

uint64_t DevicePageTable::table_for(uint64_t va, bool create, uint64_t* pd0) {
  uint64_t table = m_root;
  for (unsigned level = 1; level < pt::kLevels; ++level) {
    if (level == pt::kLevels - 1 && pd0) *pd0 = table;
    const uint64_t key = (uint64_t(level) << 56) | (va >> pt::kLevel[level - 1].lo_bit);
    auto it = m_tables.find(key);
    if (it != m_tables.end()) {
      table = it->second;
      continue;
    }
    if (!create) return VramAllocator::kNone;
    uint64_t next = m_vram.alloc();
    if (next == VramAllocator::kNone) return VramAllocator::kNone;
    ++s_tables;
    std::vector<uint8_t> zero(pt::table_bytes(level), 0);
    m_bus.vram_write(next, zero.data(), zero.size());
    // Link the new table into its parent (PD0 uses the small-page half).
    write_entry(table + pt::entry_offset(level - 1, va), pt::make_pde(next));
    ++s_pde_writes;
    m_tables[key] = next;
    table = next;
  }
  return table;
}

bool DevicePageTable::map(uint64_t va, uint64_t pa, pt::Aperture ap, bool writable, bool atomic) {
  uint64_t pd0 = 0;
  uint64_t table = table_for(va, true, &pd0);
  if (table == VramAllocator::kNone) return false;
  const uint64_t e = pt::make_pte(pa, ap, writable, atomic);
  write_entry(table + pt::entry_offset(pt::kLevels - 1, va), e);
  ++s_pte_writes;
  Region& r = m_regions[va >> pt::kHugeShift];
  if (!r.pd0_entry_pa) r.pd0_entry_pa = pd0 + pt::pd0_offset(va);
  if (!m_ptes.contains(va >> 12)) ++r.mapped[(va >> pt::kBigShift) & 31];
  m_ptes[va >> 12] = e;
  update_large(va);
  return true;
}

bool DevicePageTable::unmap(uint64_t va) {
  if (!m_ptes.contains(va >> 12)) return false;
  uint64_t table = table_for(va, false);
  write_entry(table + pt::entry_offset(pt::kLevels - 1, va), 0);
  ++s_pte_writes;
  m_ptes.erase(va >> 12);
  --m_regions[va >> pt::kHugeShift].mapped[(va >> pt::kBigShift) & 31];
  update_large(va);
  return true;
}

bool DevicePageTable::set_pd0_word0(Region& r, uint64_t value) {
  write_entry(r.pd0_entry_pa, value);
  m_dirs_changed = true;
  return true;
}

void DevicePageTable::update_large(uint64_t va) {
  Region& r = m_regions[va >> pt::kHugeShift];
  const unsigned g = (va >> pt::kBigShift) & 31;
  const uint64_t gvpn = (va & ~((1ull << pt::kBigShift) - 1)) >> 12;
  // A 64 KiB PTE when the 16 PTEs run on from an aligned first one: the
  // same attribute bits, addresses 4 KiB apart.
  uint64_t big = 0;
  if (r.mapped[g] == 16) {
    const uint64_t first = *m_ptes.find(gvpn);
    bool ok = (pt::address(first) & 0xFFFF) == 0;
    for (uint64_t i = 0; ok && i < 16; ++i) {
      const uint64_t* e = m_ptes.find(gvpn + i);
      ok = e && *e == first + i * 4096;
    }
    if (ok) big = first;
  }
  if (big != r.big_pte[g]) {
    if (big && !r.big_table) {
      const uint64_t t = m_vram.alloc();
      if (t == VramAllocator::kNone) return;  // no room for the table: keep 4 KiB PTEs
      ++s_tables;
      std::vector<uint8_t> zero(pt::kBigTableBytes, 0);
      m_bus.vram_write(t, zero.data(), zero.size());
      r.big_table = t;
      if (!r.huge) set_pd0_word0(r, pt::make_pde(t));
      ++s_pde_writes;
    }
    write_entry(r.big_table + pt::big_pte_offset(va), big);
    ++s_big_pte_writes;
    r.big_pte[g] = big;
    r.big_mask = big ? r.big_mask | (1u << g) : r.big_mask & ~(1u << g);
  }
  // A 2 MiB PTE when all 32 big PTEs run on from a 2 MiB-aligned first one.
  uint64_t huge = 0;
  if (r.big_mask == 0xFFFFFFFFu && (pt::address(r.big_pte[0]) & ((1ull << pt::kHugeShift) - 1)) == 0) {
    bool ok = true;
    for (uint64_t i = 1; ok && i < 32; ++i) ok = r.big_pte[i] == r.big_pte[0] + (i << pt::kBigShift);
    if (ok) huge = r.big_pte[0];
  }
  if (huge && huge != r.huge_pte) {
    set_pd0_word0(r, huge);
    ++s_huge_pte_writes;
  } else if (!huge && r.huge) {
    set_pd0_word0(r, r.big_table ? pt::make_pde(r.big_table) : 0);
    ++s_pde_writes;
  }
  r.huge = huge != 0;
  r.huge_pte = huge;
}

uint64_t DevicePageTable::big_mapped_in(uint64_t start, uint64_t end) const {
  uint64_t n = 0;
  for (auto it = m_regions.lower_bound(start >> pt::kHugeShift); it != m_regions.end() && (it->first << pt::kHugeShift) < end; ++it)
    for (unsigned g = 0; g < 32; ++g) {
      const uint64_t gva = (it->first << pt::kHugeShift) | (uint64_t(g) << pt::kBigShift);
      if ((it->second.big_mask >> g & 1) && gva >= start && gva < end) n += 16;
    }
  return n;
}

uint64_t DevicePageTable::huge_mapped_in(uint64_t start, uint64_t end) const {
  uint64_t n = 0;
  for (auto it = m_regions.lower_bound(start >> pt::kHugeShift); it != m_regions.end() && (it->first << pt::kHugeShift) < end; ++it)
    if (it->second.huge && (it->first << pt::kHugeShift) >= start) n += 512;
  return n;
}

std::vector<uint64_t> DevicePageTable::unmap_range(uint64_t start, uint64_t end) {
  std::vector<uint64_t> vas;
  m_ptes.for_each(start >> 12, end >> 12, [&](uint64_t vpn, const uint64_t&) { vas.push_back(vpn << 12); });
  for (uint64_t va : vas) unmap(va);
  return vas;
}

std::vector<uint64_t> DevicePageTable::writable_sysmem_in(uint64_t start, uint64_t end) const {
  std::vector<uint64_t> vas;
  m_ptes.for_each(start >> 12, end >> 12, [&](uint64_t vpn, uint64_t e) {
    if (pt::pte_writable(e) && pt::aperture(e) != pt::Aperture::Vram) vas.push_back(vpn << 12);
  });
  return vas;
}

bool DevicePageTable::ensure_tables(uint64_t start, uint64_t end) {
  // One leaf table covers 2 MiB: touch each 2 MiB step once.
  const uint64_t step = 1ull << pt::kLevel[pt::kLevels - 2].lo_bit;
  for (uint64_t va = start & ~(step - 1); va < end; va += step)
    if (table_for(va, true) == VramAllocator::kNone) return false;
  return true;
}

uint64_t DevicePageTable::pte(uint64_t va) const {
  const uint64_t* e = m_ptes.find(va >> 12);
  return e ? *e : 0;
}

uint64_t DevicePageTable::mapped_in(uint64_t start, uint64_t end) const {
  uint64_t n = 0;
  m_ptes.for_each(start >> 12, end >> 12, [&](uint64_t, uint64_t) { ++n; });
  return n;
}

}  // namespace hmmsim::host
