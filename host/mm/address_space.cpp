#include "host/mm/address_space.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace hmmsim::host {

const char* to_string(VmaKind k) {
  switch (k) {
    case VmaKind::AnonPrivate: return "anon_private";
    case VmaKind::AnonShared: return "anon_shared";
    case VmaKind::FilePrivate: return "file_private";
    case VmaKind::FileShared: return "file_shared";
  }
  return "?";
}

const char* to_string(PteKind k) {
  switch (k) {
    case PteKind::None: return "none";
    case PteKind::Present: return "present";
    case PteKind::DevicePrivate: return "device_private";
    case PteKind::Migration: return "migration";
    case PteKind::Exclusive: return "exclusive";
  }
  return "?";
}

AddressSpace::~AddressSpace() { exit(); }

void AddressSpace::notify(uint64_t start, uint64_t end, NotifyEvent e, const void* owner) {
  m_notifiers.invalidate({start, end, e, owner});
}

const Vma* AddressSpace::find_vma(uint64_t va) const {
  auto it = m_vmas.upper_bound(va);
  if (it == m_vmas.begin()) return nullptr;
  --it;
  return va < it->second.end ? &it->second : nullptr;
}

uint64_t AddressSpace::find_free(uint64_t len, uint64_t hint, uint64_t align) const {
  len = page_up(len);
  uint64_t a = (hint + align - 1) & ~(align - 1);
  for (auto& [s, v] : m_vmas) {
    if (v.end <= a) continue;
    if (s >= a + len) break;
    a = (v.end + align - 1) & ~(align - 1);
  }
  return a;
}

Status AddressSpace::mmap_fixed(uint64_t addr, uint64_t len, uint32_t prot, VmaKind kind,
                                std::shared_ptr<MemFile> file, uint64_t pgoff, bool hugetlb) {
  if (m_exited || !page_aligned(addr) || len == 0) return Status::Inval;
  const uint64_t end = addr + page_up(len);
  if (end < addr || end > (1ull << 47)) return Status::Inval;
  if (hugetlb && ((addr | len) & (kHugeSize - 1))) return Status::Inval;
  const bool needs_file = kind == VmaKind::FilePrivate || kind == VmaKind::FileShared;
  if (needs_file != (file != nullptr)) return Status::Inval;
  auto it = m_vmas.lower_bound(addr);
  if (it != m_vmas.end() && it->second.start < end) return Status::Inval;
  if (it != m_vmas.begin() && std::prev(it)->second.end > addr) return Status::Inval;
  Vma v;
  v.start = addr;
  v.end = end;
  v.prot = prot;
  v.kind = kind;
  v.hugetlb = hugetlb;
  v.pgoff = pgoff;
  v.file = kind == VmaKind::AnonShared ? std::make_shared<MemFile>(m_sys.phys, "shmem") : file;
  m_vmas[addr] = v;
  return Status::Ok;
}

// ---- page table -----------------------------------------------------------

Pte AddressSpace::pte(uint64_t va) const {
  const Pte* p = m_ptes.find(va >> kPageShift);
  return p ? *p : Pte{};
}

void AddressSpace::set_pte(uint64_t va, const Pte& p) {
  va = page_down(va);
  const Pfn zero = m_sys.phys.zero_pfn();
  const uint64_t vpn = va >> kPageShift;
  const Pte* cur = m_ptes.find(vpn);
  if (cur && cur->kind != PteKind::None && cur->pfn != zero) m_sys.rmap.remove(cur->pfn, this, va);
  if (p.kind == PteKind::None) {
    if (cur) m_ptes.erase(vpn);
    return;
  }
  if (p.pfn != zero) m_sys.rmap.add(p.pfn, this, va);
  m_ptes[vpn] = p;
}

void AddressSpace::release_page(const Pte& p) {
  if (p.kind == PteKind::None) return;
  if (DevicePagemaps::is_device(p.pfn))
    m_sys.pagemaps.put(p.pfn);
  else
    m_sys.phys.put(p.pfn);
}

std::vector<std::pair<uint64_t, Pte>> AddressSpace::entries(uint64_t start, uint64_t end) const {
  std::vector<std::pair<uint64_t, Pte>> out;
  m_ptes.for_each(start >> kPageShift, end >> kPageShift,
                  [&](uint64_t vpn, const Pte& p) { out.emplace_back(vpn << kPageShift, p); });
  return out;
}

void AddressSpace::split_pmd(uint64_t va) {
  const uint64_t base = va & ~(kHugeSize - 1);
  bool any = false;
  m_ptes.for_each(base >> kPageShift, (base + kHugeSize) >> kPageShift, [&](uint64_t, Pte& p) {
    if (p.pmd) {
      p.pmd = false;
      any = true;
    }
  });
  if (any) ++s_thp_splits;
}

Status AddressSpace::split_pmds_across(uint64_t start, uint64_t end) {
  for (uint64_t edge : {start, end}) {
    if (!(edge & (kHugeSize - 1))) continue;
    const Vma* v = find_vma(edge);
    if (v && v->hugetlb) return Status::Inval;  // hugetlb pages are never split
    // A THP split changes how the whole block is mapped: mirrors drop it.
    for (uint64_t at : {edge, edge - kPageSize}) {
      if (at > edge || !pte(at).pmd) continue;  // (edge - 4 KiB wraps at 0)
      const uint64_t base = at & ~(kHugeSize - 1);
      notify(base, base + kHugeSize, NotifyEvent::Clear);
      split_pmd(at);
    }
  }
  return Status::Ok;
}

void AddressSpace::split_vma_at(uint64_t addr) {
  auto it = m_vmas.upper_bound(addr);
  if (it == m_vmas.begin()) return;
  --it;
  Vma& v = it->second;
  if (addr <= v.start || addr >= v.end) return;
  Vma tail = v;
  tail.start = addr;
  tail.pgoff = v.file_index(addr);
  v.end = addr;
  m_vmas[addr] = tail;
}

// ---- faults ---------------------------------------------------------------

bool AddressSpace::thp_eligible(const Vma& vma, uint64_t va) const {
  if (vma.kind != VmaKind::AnonPrivate || !(vma.thp || vma.hugetlb)) return false;
  const uint64_t base = va & ~(kHugeSize - 1);
  if (base < vma.start || base + kHugeSize > vma.end) return false;
  return !m_ptes.any_in(base >> kPageShift, (base + kHugeSize) >> kPageShift);
}

Status AddressSpace::fault_none(const Vma& vma, uint64_t va, bool write) {
  PhysMem& phys = m_sys.phys;
  const uint64_t base = va & ~(kHugeSize - 1);
  if (vma.hugetlb) {
    // hugetlb: always a whole 2 MiB page (no zero page); failure is an error.
    Pfn head = phys.alloc_huge();
    if (head == kNoPfn) return Status::NoMem;
    for (uint64_t i = 0; i < kHugePages; ++i)
      set_pte(base + (i << kPageShift), Pte{PteKind::Present, (vma.prot & kProtWrite) != 0, write, true, true,
                                            false, head + i, nullptr});
    ++s_thp_faults;
    return Status::Ok;
  }
  if (vma.kind == VmaKind::AnonPrivate) {
    const bool huge = thp_eligible(vma, va);
    if (!write) {
      // Reads of untouched private anonymous memory map the shared zero
      // page (the huge zero page for a THP-eligible block).
      const uint64_t first = huge ? base : page_down(va);
      const uint64_t n = huge ? kHugePages : 1;
      for (uint64_t i = 0; i < n; ++i)
        set_pte(first + (i << kPageShift), Pte{PteKind::Present, false, false, false, huge, false, phys.zero_pfn(), nullptr});
      ++s_zero_page_maps;
      return Status::Ok;
    }
    if (huge) {
      Pfn head = phys.alloc_huge();
      if (head != kNoPfn) {
        for (uint64_t i = 0; i < kHugePages; ++i)
          set_pte(base + (i << kPageShift), Pte{PteKind::Present, true, true, true, true, false, head + i, nullptr});
        ++s_thp_faults;
        return Status::Ok;
      }
      ++s_thp_fallbacks;  // no 2 MiB run free: fall back to a 4 KiB page
    }
    Pfn pfn = phys.alloc();
    if (pfn == kNoPfn) return Status::NoMem;
    set_pte(va, Pte{PteKind::Present, true, true, true, false, false, pfn, nullptr});
    return Status::Ok;
  }
  // Page-cache backed: shmem, or a file.
  Pfn pc = vma.file->page(vma.file_index(va));
  if (pc == kNoPfn) return Status::NoMem;
  if (vma.shared()) {
    phys.get(pc);
    set_pte(va, Pte{PteKind::Present, (vma.prot & kProtWrite) != 0, write, false, false, false, pc, nullptr});
    if (write) vma.file->mark_dirty(vma.file_index(va));
    return Status::Ok;
  }
  // Private file mapping: reads map the page-cache page read-only; a write
  // fault on an empty entry copies it straight away (nothing was mapped, so
  // no mirror has to hear of it).
  if (write) {
    Pfn copy = phys.alloc();
    if (copy == kNoPfn) return Status::NoMem;
    phys.copy_page(copy, pc);
    set_pte(va, Pte{PteKind::Present, true, true, true, false, false, copy, nullptr});
    ++s_cow_copies;
    return Status::Ok;
  }
  phys.get(pc);
  set_pte(va, Pte{PteKind::Present, false, false, false, false, false, pc, nullptr});
  return Status::Ok;
}

Status AddressSpace::fault_wp(const Vma& vma, uint64_t va, Pte p) {
  PhysMem& phys = m_sys.phys;
  if (vma.shared()) {  // shared pages are never copied
    p.write = true;
    p.dirty = true;
    set_pte(va, p);
    if (vma.file) vma.file->mark_dirty(vma.file_index(va));
    return Status::Ok;
  }
  const bool exclusive_anon = p.anon && p.pfn != phys.zero_pfn() && phys.refcount(p.pfn) == 1;
  if (exclusive_anon) {  // sole owner of an anonymous page: reuse it
    if (p.pmd) {  // the whole PMD mapping becomes writable, if no subpage is shared
      const uint64_t base = va & ~(kHugeSize - 1);
      bool sole = true;
      for (uint64_t k = 0; k < kHugePages && sole; ++k) {
        const Pte e = pte(base + (k << kPageShift));
        sole = e.pmd && e.kind == PteKind::Present && phys.refcount(e.pfn) == 1;
      }
      if (sole) {
        for (uint64_t k = 0; k < kHugePages; ++k) {
          Pte e = pte(base + (k << kPageShift));
          e.write = true;
          e.lazyfree = false;
          if (base + (k << kPageShift) == page_down(va)) e.dirty = true;
          set_pte(base + (k << kPageShift), e);
        }
        return Status::Ok;
      }
      if (!vma.hugetlb) {
        notify(base, base + kHugeSize, NotifyEvent::Clear);
        split_pmd(va);
        p = pte(va);
      }
    }
    if (!p.pmd) {
      p.write = true;
      p.dirty = true;
      p.lazyfree = false;
      set_pte(va, p);
      return Status::Ok;
    }
  }
  if (vma.hugetlb) {
    // hugetlb COW copies the whole 2 MiB page.
    const uint64_t base = va & ~(kHugeSize - 1);
    Pfn head = phys.alloc_huge();
    if (head == kNoPfn) return Status::NoMem;
    notify(base, base + kHugeSize, NotifyEvent::Clear);
    for (uint64_t i = 0; i < kHugePages; ++i) {
      const uint64_t a = base + (i << kPageShift);
      Pte old = pte(a);
      phys.copy_page(head + i, old.pfn);
      release_page(old);
      set_pte(a, Pte{PteKind::Present, true, true, true, true, false, head + i, nullptr});
    }
    ++s_cow_copies;
    return Status::Ok;
  }
  if (p.pmd) {  // COW of a THP: split to 4 KiB and copy one page (do_huge_pmd_wp_page fallback)
    notify(va & ~(kHugeSize - 1), (va & ~(kHugeSize - 1)) + kHugeSize, NotifyEvent::Clear);
    split_pmd(va);
    p = pte(va);
  }
  Pfn copy = phys.alloc();
  if (copy == kNoPfn) return Status::NoMem;
  // The page behind this address changes: mirrors must drop it.
  notify(page_down(va), page_down(va) + kPageSize, NotifyEvent::Clear);
  phys.copy_page(copy, p.pfn);
  release_page(p);
  set_pte(va, Pte{PteKind::Present, true, true, true, false, false, copy, nullptr});
  ++s_cow_copies;
  return Status::Ok;
}

Status AddressSpace::restore_exclusive(uint64_t va, Pte p) {
  // The CPU takes the page back: the device loses atomic access (current
  // kernels raise CLEAR with no owner here; before 2025 it was EXCLUSIVE).
  notify(page_down(va), page_down(va) + kPageSize, NotifyEvent::Clear, nullptr);
  p.kind = PteKind::Present;
  p.owner = nullptr;
  set_pte(va, p);
  ++s_exclusive_restores;
  return Status::Ok;
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
    case PteKind::Exclusive:
      return restore_exclusive(va, p);
    case PteKind::DevicePrivate: {
      DevicePagemap* pm = m_sys.pagemaps.find(p.pfn);
      if (!pm || !pm->ops) return Status::Fault;  // device gone: SIGBUS
      ++s_migrate_to_ram;
      return pm->ops->migrate_to_ram(*this, va, p.pfn);
    }
    case PteKind::None:
      return fault_none(*vma, va, write);
    case PteKind::Present:
      if (!write || p.write) return Status::Ok;
      return fault_wp(*vma, va, p);
  }
  return Status::Fault;
}

Status AddressSpace::access(uint64_t va, void* buf, uint64_t len, bool write) {
  auto* bytes = static_cast<uint8_t*>(buf);
  while (len > 0) {
    const uint64_t off = va & kPageMask;
    const uint64_t n = std::min(len, kPageSize - off);
    const Vma* vma = find_vma(va);
    if (!vma || !(vma->prot & kProtRead)) return Status::Fault;
    if (write && !(vma->prot & kProtWrite)) return Status::Perm;
    Pte p = pte(va);
    // Fault until the page is present with the needed permission; the
    // handler may migrate a device page back, restore an exclusive entry,
    // then copy on write: several rounds.
    for (int round = 0; p.kind != PteKind::Present || (write && !p.write); ++round) {
      if (round > 8) return Status::Busy;
      Status s = handle_fault(va, write);
      if (s != Status::Ok) return s;
      p = pte(va);
    }
    if (write) {
      m_sys.phys.write(p.pfn, off, bytes, n);
      p.dirty = true;
      p.lazyfree = false;
      set_pte(va, p);
      if (vma->shared() && vma->file) vma->file->mark_dirty(vma->file_index(va));
    } else {
      m_sys.phys.read(p.pfn, off, bytes, n);
    }
    va += n;
    bytes += n;
    len -= n;
  }
  return Status::Ok;
}

Status AddressSpace::cpu_read(uint64_t va, void* dst, uint64_t len) { return access(va, dst, len, false); }

Status AddressSpace::cpu_write(uint64_t va, const void* src, uint64_t len) {
  // access() only reads from the buffer when writing.
  return access(va, const_cast<void*>(src), len, true);
}

Status AddressSpace::make_device_exclusive(uint64_t va, const void* owner, Pfn* pfn) {
  va = page_down(va);
  const Vma* vma = find_vma(va);
  if (!vma) return Status::Fault;
  if (!(vma->prot & kProtWrite)) return Status::Fault;  // GUP for write fails
  if (vma->hugetlb || vma->shared()) return Status::NotSupp;  // never anonymous pages
  // Like GUP with FOLL_WRITE: make the page present and writable first.
  Pte p = pte(va);
  for (int round = 0; p.kind != PteKind::Present || !p.write; ++round) {
    if (round > 8) return Status::Busy;
    if (p.kind == PteKind::Exclusive && p.owner == owner) {
      if (pfn) *pfn = p.pfn;
      return Status::Ok;
    }
    Status s = handle_fault(va, true);
    if (s != Status::Ok) return s == Status::NoMem ? s : Status::Fault;
    p = pte(va);
  }
  if (!p.anon) return Status::NotSupp;  // the page itself decides (private file COW copies qualify)
  if (p.pmd) {  // FOLL_SPLIT_PMD
    notify(va & ~(kHugeSize - 1), (va & ~(kHugeSize - 1)) + kHugeSize, NotifyEvent::Clear);
    split_pmd(va);
  }
  notify(va, va + kPageSize, NotifyEvent::Exclusive, owner);
  p = pte(va);
  p.kind = PteKind::Exclusive;
  p.owner = owner;
  set_pte(va, p);
  if (pfn) *pfn = p.pfn;
  return Status::Ok;
}

void AddressSpace::mark_dirty(uint64_t start, uint64_t end) {
  m_ptes.for_each(start >> kPageShift, end >> kPageShift, [&](uint64_t vpn, Pte& p) {
    if (p.kind == PteKind::None || p.pfn == m_sys.phys.zero_pfn()) return;
    p.dirty = true;
    p.lazyfree = false;
    const uint64_t va = vpn << kPageShift;
    const Vma* v = find_vma(va);
    if (v && v->shared() && v->file) v->file->mark_dirty(v->file_index(va));
  });
}

}  // namespace hmmsim::host
