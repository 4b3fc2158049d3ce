#include "host/mm/address_space.h"

#include <cassert>
#include <cstring>
#include <vector>

namespace hmmsim::host {

AddressSpace::~AddressSpace() {
  m_notifiers.invalidate({0, ~0ull, NotifyEvent::Release, nullptr});
  for (auto& [vpn, p] : m_ptes) release_page(p);
}

const Vma* AddressSpace::find_vma(uint64_t va) const {
  auto it = m_vmas.upper_bound(va);
  if (it == m_vmas.begin()) return nullptr;
  --it;
  return va < it->second.end ? &it->second : nullptr;
}

Status AddressSpace::mmap_fixed(uint64_t addr, uint64_t len, uint32_t prot, VmaKind kind) {
  if (!page_aligned(addr) || len == 0 || addr + page_up(len) < addr) return Status::Inval;
  uint64_t end = addr + page_up(len);
  auto it = m_vmas.lower_bound(addr);
  if (it != m_vmas.end() && it->second.start < end) return Status::Inval;
  if (it != m_vmas.begin() && std::prev(it)->second.end > addr) return Status::Inval;
  m_vmas[addr] = Vma{addr, end, prot, kind};
  return Status::Ok;
}

Status AddressSpace::munmap(uint64_t addr, uint64_t len) {
  if (!page_aligned(addr) || len == 0) return Status::Inval;
  uint64_t end = addr + page_up(len);
  m_notifiers.invalidate({addr, end, NotifyEvent::Unmap, nullptr});
  for (auto it = m_ptes.lower_bound(addr >> kPageShift);
       it != m_ptes.end() && it->first < (end >> kPageShift);) {
    release_page(it->second);
    it = m_ptes.erase(it);
  }
  // Trim or split VMAs overlapping [addr, end).
  std::vector<Vma> keep;
  for (auto it = m_vmas.begin(); it != m_vmas.end();) {
    Vma v = it->second;
    if (v.end <= addr || v.start >= end) {
      ++it;
      continue;
    }
    it = m_vmas.erase(it);
    if (v.start < addr) keep.push_back(Vma{v.start, addr, v.prot, v.kind});
    if (v.end > end) keep.push_back(Vma{end, v.end, v.prot, v.kind});
  }
  for (auto& v : keep) m_vmas[v.start] = v;
  return Status::Ok;
}

Pte AddressSpace::pte(uint64_t va) const {
  auto it = m_ptes.find(va >> kPageShift);
  return it == m_ptes.end() ? Pte{} : it->second;
}

void AddressSpace::set_pte(uint64_t va, const Pte& p) {
  if (p.kind == PteKind::None)
    m_ptes.erase(va >> kPageShift);
  else
    m_ptes[va >> kPageShift] = p;
}

void AddressSpace::clear_pte(uint64_t va) { m_ptes.erase(va >> kPageShift); }

void AddressSpace::release_page(const Pte& p) {
  if (p.kind == PteKind::None) return;
  if (DevicePagemaps::is_device(p.pfn))
    m_sys.pagemaps.put(p.pfn);
  else
    m_sys.phys.put(p.pfn);
}

Status AddressSpace::handle_fault(uint64_t va, bool write) {
  const Vma* vma = find_vma(va);
  if (!vma || !(vma->prot & kProtRead)) return Status::Fault;
  if (write && !(vma->prot & kProtWrite)) return Status::Perm;
  ++s_cpu_faults;
  va = page_down(va);
  Pte p = pte(va);
  switch (p.kind) {
    case PteKind::Migration:
      return Status::Again;
    case PteKind::DevicePrivate: {
      DevicePagemap* pm = m_sys.pagemaps.find(p.pfn);
      assert(pm);
      ++s_migrate_to_ram;
      return pm->ops->migrate_to_ram(*this, va, p.pfn);
    }
    case PteKind::None: {
      if (!write && vma->kind == VmaKind::AnonPrivate) {
        // Read of untouched private anonymous memory maps the shared zero page.
        set_pte(va, Pte{PteKind::Present, false, false, m_sys.phys.zero_pfn()});
        ++s_zero_page_maps;
        return Status::Ok;
      }
      Pfn pfn = m_sys.phys.alloc();
      if (pfn == kNoPfn) return Status::NoMem;
      set_pte(va, Pte{PteKind::Present, (vma->prot & kProtWrite) != 0, write, pfn});
      return Status::Ok;
    }
    case PteKind::Present: {
      if (!write || p.write) return Status::Ok;
      bool shared = p.pfn == m_sys.phys.zero_pfn() || m_sys.phys.refcount(p.pfn) > 1;
      if (!shared) {  // sole owner: reuse the page, just make it writable
        p.write = true;
        p.dirty = true;
        set_pte(va, p);
        return Status::Ok;
      }
      // Copy-on-write: the page behind this address changes, mirrors must drop it.
      Pfn copy = m_sys.phys.alloc();
      if (copy == kNoPfn) return Status::NoMem;
      m_notifiers.invalidate({va, va + kPageSize, NotifyEvent::Clear, nullptr});
      m_sys.phys.copy_page(copy, p.pfn);
      m_sys.phys.put(p.pfn);
      set_pte(va, Pte{PteKind::Present, true, true, copy});
      return Status::Ok;
    }
  }
  return Status::Fault;
}

Status AddressSpace::access(uint64_t va, void* buf, uint64_t len, bool write) {
  auto* bytes = static_cast<uint8_t*>(buf);
  while (len > 0) {
    uint64_t off = va & kPageMask;
    uint64_t n = std::min(len, kPageSize - off);
    Pte p = pte(va);
    // Fault until the page is present with the needed permission; the
    // handler may migrate a device page back (which can take several rounds).
    for (int round = 0; p.kind != PteKind::Present || (write && !p.write); ++round) {
      if (round > 8) return Status::Busy;
      Status s = handle_fault(va, write);
      if (s != Status::Ok) return s;
      p = pte(va);
    }
    if (write) {
      m_sys.phys.write(p.pfn, off, bytes, n);
      p.dirty = true;
      set_pte(va, p);
    } else {
      m_sys.phys.read(p.pfn, off, bytes, n);
    }
    va += n;
    bytes += n;
    len -= n;
  }
  return Status::Ok;
}

Status AddressSpace::cpu_read(uint64_t va, void* dst, uint64_t len) {
  return access(va, dst, len, false);
}

Status AddressSpace::cpu_write(uint64_t va, const void* src, uint64_t len) {
  return access(va, const_cast<void*>(src), len, true);
}

}  // namespace hmmsim::host
