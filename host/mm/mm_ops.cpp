// Address-space operations that change VMAs: munmap, mprotect, mremap,
// madvise, reclaim. Each raises its notifier event before the page table changes.
#include <algorithm>

#include "host/mm/address_space.h"

namespace hmmsim::host {

void AddressSpace::zap(uint64_t start, uint64_t end) {
  m_ptes.for_each(start >> kPageShift, end >> kPageShift, [&](uint64_t vpn, Pte& entry) {
    const uint64_t va = vpn << kPageShift;
    const Pte p = entry;  // set_pte erases the entry
    if (p.dirty) {
      const Vma* v = find_vma(va);
      if (v && v->shared() && v->file) v->file->mark_dirty(v->file_index(va));
    }
    set_pte(va, Pte{});
    release_page(p);
  });
}

Status AddressSpace::munmap(uint64_t addr, uint64_t len) {
  if (!page_aligned(addr) || len == 0) return Status::Inval;
  const uint64_t end = addr + page_up(len);
  if (end < addr) return Status::Inval;
  // Nothing mapped there: Linux returns without telling anyone.
  auto first = m_vmas.upper_bound(addr);
  if (first != m_vmas.begin() && std::prev(first)->second.end > addr) --first;
  if (first == m_vmas.end() || first->second.start >= end) return Status::Ok;
  if (split_pmds_across(addr, end) != Status::Ok) return Status::Inval;
  notify(addr, end, NotifyEvent::Unmap);
  zap(addr, end);
  split_vma_at(addr);
  split_vma_at(end);
  for (auto it = m_vmas.lower_bound(addr); it != m_vmas.end() && it->first < end;) it = m_vmas.erase(it);
  return Status::Ok;
}

Status AddressSpace::mprotect(uint64_t addr, uint64_t len, uint32_t prot) {
  if (!page_aligned(addr) || len == 0) return Status::Inval;
  const uint64_t end = addr + page_up(len);
  // The whole range must be mapped (Linux: ENOMEM for holes).
  for (uint64_t a = addr; a < end;) {
    const Vma* v = find_vma(a);
    if (!v) return Status::NoMem;
    if (v->hugetlb && ((addr | end) & (kHugeSize - 1))) return Status::Inval;
    a = v->end;
  }
  // A THP only partly covered is split first (one PMD cannot carry two
  // protections).
  if (split_pmds_across(addr, end) != Status::Ok) return Status::Inval;
  notify(addr, end, NotifyEvent::ProtectionVma);
  split_vma_at(addr);
  split_vma_at(end);
  for (auto it = m_vmas.lower_bound(addr); it != m_vmas.end() && it->first < end; ++it) it->second.prot = prot;
  if (!(prot & kProtWrite))
    m_ptes.for_each(addr >> kPageShift, end >> kPageShift,
                    [](uint64_t, Pte& p) { p.write = false; });  // device-private entries become the read variant
  return Status::Ok;
}

Status AddressSpace::write_protect(uint64_t addr, uint64_t len, const void* owner) {
  if (!page_aligned(addr) || len == 0) return Status::Inval;
  const uint64_t end = addr + page_up(len);
  const Vma* v = find_vma(addr);
  if (!v || end > v->end || v->shared() || v->hugetlb) return Status::Inval;
  if (split_pmds_across(addr, end) != Status::Ok) return Status::Inval;
  notify(addr, end, NotifyEvent::ProtectionPage, owner);
  m_ptes.for_each(addr >> kPageShift, end >> kPageShift, [](uint64_t, Pte& p) {
    if (p.kind == PteKind::Present) p.write = false;
  });
  return Status::Ok;
}

Status AddressSpace::mremap(uint64_t old_addr, uint64_t old_len, uint64_t new_len, MremapFlags f,
                            uint64_t* new_addr) {
  if (!page_aligned(old_addr) || new_len == 0) return Status::Inval;
  old_len = page_up(old_len);
  new_len = page_up(new_len);
  if ((f.fixed && !f.maymove) || (f.dontunmap && (!f.maymove || old_len != new_len))) return Status::Inval;
  const Vma* v = find_vma(old_addr);
  if (!v || old_addr + std::max<uint64_t>(old_len, kPageSize) > v->end) return Status::Fault;
  if (v->hugetlb) return Status::Inval;
  if (f.dontunmap && v->kind != VmaKind::AnonPrivate) return Status::Inval;
  if (old_len == 0) return Status::Inval;
  const Vma vma = *v;

  // MREMAP_DONTUNMAP always moves (mremap_to), even at the same size.
  if (!f.fixed && !f.dontunmap) {
    if (new_len <= old_len) {  // shrink in place
      if (new_len < old_len) munmap(old_addr + new_len, old_len - new_len);
      *new_addr = old_addr;
      return Status::Ok;
    }
    // Grow in place if the tail is free and the range is the VMA's end.
    const uint64_t grow_end = old_addr + new_len;
    if (old_addr + old_len == vma.end && find_free(new_len - old_len, vma.end) == vma.end &&
        grow_end <= (1ull << 47)) {
      m_vmas[vma.start].end = vma.start + (grow_end - vma.start);
      *new_addr = old_addr;
      return Status::Ok;
    }
    if (!f.maymove) return Status::NoMem;
  }

  uint64_t dst;
  if (f.fixed) {
    dst = *new_addr;
    if (!page_aligned(dst) || (dst < old_addr + old_len && old_addr < dst + new_len)) return Status::Inval;
    if (dst + new_len > (1ull << 47) || dst + new_len < dst) return Status::Inval;
    if (munmap(dst, new_len) != Status::Ok) return Status::Inval;  // e.g. would split a hugetlb page
  } else {
    dst = find_free(new_len, old_addr + old_len, kHugeSize);
  }
  const uint64_t move_len = std::min(old_len, new_len);
  // Pages leave the old range: mirrors of it must drop them.
  if (split_pmds_across(old_addr, old_addr + move_len) != Status::Ok) return Status::Inval;
  notify(old_addr, old_addr + old_len, NotifyEvent::Unmap);
  // A PMD mapping survives only when the 2 MiB offset is preserved.
  const bool keep_pmd = ((old_addr ^ dst) & (kHugeSize - 1)) == 0;
  std::vector<std::pair<uint64_t, Pte>> moving = entries(old_addr, old_addr + move_len);
  for (auto& [va, p] : moving) set_pte(va, Pte{});
  for (auto& [va, p] : moving) {
    Pte q = p;
    if (!keep_pmd) q.pmd = false;
    set_pte(dst + (va - old_addr), q);
  }
  // New VMA with the old one's attributes.
  Vma nv = vma;
  nv.start = dst;
  nv.end = dst + new_len;
  nv.pgoff = vma.file_index(old_addr);
  if (f.dontunmap) {
    // The old range stays mapped but empty; it faults in fresh pages.
  } else {
    // Drop the old range's VMA (its entries moved already) and any tail.
    zap(old_addr, old_addr + old_len);
    split_vma_at(old_addr);
    split_vma_at(old_addr + old_len);
    for (auto it = m_vmas.lower_bound(old_addr); it != m_vmas.end() && it->first < old_addr + old_len;)
      it = m_vmas.erase(it);
  }
  m_vmas[dst] = nv;
  *new_addr = dst;
  return Status::Ok;
}

Status AddressSpace::madvise(uint64_t addr, uint64_t len, Advice advice) {
  if (!page_aligned(addr) || len == 0) return Status::Inval;
  const uint64_t end = addr + page_up(len);
  for (uint64_t a = addr; a < end;) {
    const Vma* v = find_vma(a);
    if (!v) return Status::NoMem;
    a = v->end;
  }
  switch (advice) {
    case Advice::Hugepage:
    case Advice::NoHugepage:
      split_vma_at(addr);
      split_vma_at(end);
      for (auto it = m_vmas.lower_bound(addr); it != m_vmas.end() && it->first < end; ++it)
        it->second.thp = advice == Advice::Hugepage;
      return Status::Ok;
    case Advice::DontNeed:
      // Discard without write-back: host and device pages alike are freed;
      // private anonymous memory reads back as zeros.
      if (split_pmds_across(addr, end) != Status::Ok) return Status::Inval;
      notify(addr, end, NotifyEvent::Clear);
      zap(addr, end);
      return Status::Ok;
    case Advice::Free: {
      // MADV_FREE: private anonymous pages become clean and lazily freeable;
      // a later write (CPU, or a device through mark_dirty) keeps them.
      notify(addr, end, NotifyEvent::Clear);
      m_ptes.for_each(addr >> kPageShift, end >> kPageShift, [&](uint64_t vpn, Pte& p) {
        const Vma* v = find_vma(vpn << kPageShift);
        if (!v || !v->anonymous() || p.kind != PteKind::Present || !p.anon) return;
        p.dirty = false;
        p.lazyfree = true;
      });
      return Status::Ok;
    }
  }
  return Status::Inval;
}

uint64_t AddressSpace::reclaim() {
  std::vector<uint64_t> victims;
  m_ptes.for_each(0, m_ptes.kEnd, [&](uint64_t vpn, const Pte& p) {
    if (p.kind == PteKind::Present && p.lazyfree && !p.dirty && m_sys.phys.refcount(p.pfn) == 1)
      victims.push_back(vpn << kPageShift);
  });
  for (uint64_t va : victims) {
    if (pte(va).pmd) {
      const uint64_t base = va & ~(kHugeSize - 1);
      notify(base, base + kHugeSize, NotifyEvent::Clear);
      split_pmd(va);
    }
    notify(va, va + kPageSize, NotifyEvent::Clear);
    Pte p = pte(va);
    set_pte(va, Pte{});
    release_page(p);
  }
  s_reclaimed += victims.size();
  return victims.size();
}

}  // namespace hmmsim::host
