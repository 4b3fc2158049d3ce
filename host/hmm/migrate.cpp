#include "host/hmm/migrate.h"

#include <algorithm>
#include <cassert>

namespace hmmsim::host {

namespace {

bool is_zero(const HostSystem& sys, const Pte& p) {
  return p.kind == PteKind::Present && p.pfn == sys.phys.zero_pfn();
}

// A page with references beyond its mappings is pinned (GUP, page cache):
// migrate_vma_check_page() refuses it.
bool pinned(const HostSystem& sys, Pfn pfn) {
  const uint64_t refs = DevicePagemaps::is_device(pfn) ? sys.pagemaps.refcount(pfn) : sys.phys.refcount(pfn);
  return refs > sys.rmap.mapcount(pfn);
}

// Whether any mapping of `pfn` is part of a PMD mapping.
bool pmd_mapped(const HostSystem& sys, Pfn pfn) {
  for (auto [mm, va] : sys.rmap.mappings(pfn))
    if (mm->pte(va).pmd) return true;
  return false;
}

// Splits the 2 MiB folio holding `pfn` in every address space that maps it
// with a PMD (each hears CLEAR over its block), as migrate_vma_split_folio
// does: afterwards every subpage is PTE-mapped everywhere.
void split_folio_everywhere(HostSystem& sys, Pfn pfn) {
  const Pfn head = pfn & ~(kHugePages - 1);
  std::vector<std::pair<AddressSpace*, uint64_t>> blocks;
  for (uint64_t k = 0; k < kHugePages; ++k)
    for (auto [mm, va] : sys.rmap.mappings(head + k))
      if (mm->pte(va).pmd) {
        const std::pair<AddressSpace*, uint64_t> b{mm, va & ~(kHugeSize - 1)};
        if (std::find(blocks.begin(), blocks.end(), b) == blocks.end()) blocks.push_back(b);
      }
  for (auto [mm, base] : blocks) {
    mm->notifiers().invalidate({base, base + kHugeSize, NotifyEvent::Clear, nullptr});
    mm->split_pmd(base);
  }
}

// The 2 MiB block at `va` maps one whole folio with PMD entries here, and
// every other mapping of it is a PMD mapping too: it may move as one unit.
bool intact_folio(const HostSystem& sys, AddressSpace& mm, uint64_t va, const Pte& head) {
  for (uint64_t k = 0; k < kHugePages; ++k) {
    const Pte e = mm.pte(va + (k << kPageShift));
    if (e.kind != head.kind || !e.pmd || e.pfn != head.pfn + k) return false;
    for (auto [m2, va2] : sys.rmap.mappings(head.pfn + k))
      if (!m2->pte(va2).pmd) return false;
  }
  return true;
}

void put_page(HostSystem& sys, Pfn pfn) {
  if (DevicePagemaps::is_device(pfn))
    sys.pagemaps.put(pfn);
  else
    sys.phys.put(pfn);
}

void get_page(HostSystem& sys, Pfn pfn) {
  if (DevicePagemaps::is_device(pfn))
    sys.pagemaps.get(pfn);
  else
    sys.phys.get(pfn);
}

// Replaces every mapping of `pfn` by a migration entry. The mapping at
// (self, self_va) was already notified (MIGRATE over the whole range);
// others get CLEAR with no owner, as try_to_migrate() raises. Returns
// whether any mapping was writable. The collected page holds a reference
// of its own until finalize (folio_get in migrate_vma_collect), so a zap of
// its migration entries meanwhile (munmap, MADV_DONTNEED) cannot free it
// under the device's copy.
bool isolate(HostSystem& sys, Pfn pfn, AddressSpace* self, uint64_t self_va) {
  bool write = false;
  assert(!pinned(sys, pfn));
  get_page(sys, pfn);
  for (auto [mm, va] : sys.rmap.mappings(pfn)) {
    Pte p = mm->pte(va);
    if (p.kind == PteKind::Migration) continue;
    if (mm != self || va != self_va) mm->notifiers().invalidate({va, va + kPageSize, NotifyEvent::Clear, nullptr});
    write |= p.write;
    p.kind = PteKind::Migration;
    mm->set_pte(va, p);
  }
  return write;
}

// Puts back or replaces every migration entry of `old_pfn`: with `new_pfn`
// when moved (the first mapping takes the dst reference, further mappings
// take their own), else restoring the old page.
void settle(HostSystem& sys, Pfn old_pfn, bool moved, Pfn new_pfn, bool new_pmd) {
  bool first = true;
  for (auto [mm, va] : sys.rmap.mappings(old_pfn)) {
    Pte p = mm->pte(va);
    if (p.kind != PteKind::Migration || p.pfn != old_pfn) continue;
    if (!moved) {
      p.kind = DevicePagemaps::is_device(old_pfn) ? PteKind::DevicePrivate : PteKind::Present;
      mm->set_pte(va, p);
      continue;
    }
    Pte n = p;  // writability follows the migration entry
    n.kind = DevicePagemaps::is_device(new_pfn) ? PteKind::DevicePrivate : PteKind::Present;
    n.pfn = new_pfn;
    n.anon = true;
    n.dirty = true;
    n.lazyfree = false;
    n.pmd = new_pmd && p.pmd;
    if (!first) {
      if (DevicePagemaps::is_device(new_pfn))
        sys.pagemaps.get(new_pfn);
      else
        sys.phys.get(new_pfn);
    }
    first = false;
    mm->set_pte(va, n);
    mm->release_page(p);
  }
  // Every mapping went away during the migration: nobody takes the new page.
  if (moved && first) put_page(sys, new_pfn);
}


}  // namespace

Status migrate_vma_setup(AddressSpace& mm, MigrateVma& a) {
  if (!page_aligned(a.start) || !page_aligned(a.end) || a.end <= a.start) return Status::Inval;
  const Vma* vma = mm.find_vma(a.start);
  if (!vma || a.end > vma->end || vma->hugetlb) return Status::Inval;
  HostSystem& sys = mm.system();
  const uint64_t npages = (a.end - a.start) >> kPageShift;
  a.src.assign(npages, 0);
  a.dst.assign(npages, 0);
  a.cpages = 0;
  const bool sel_sys = a.flags & kSelectSystem;
  const bool sel_dev = a.flags & kSelectDevicePrivate;
  const bool compound = a.flags & kSelectCompound;

  // Mirrors drop the range first; the migrating driver recognises its own
  // event by the owner.
  mm.notifiers().invalidate({a.start, a.end, NotifyEvent::Migrate, a.pgmap_owner});

  uint64_t i = 0;
  while (i < npages) {
    const uint64_t va = a.start + (i << kPageShift);
    Pte p = mm.pte(va);
    const bool whole_block = (va & (kHugeSize - 1)) == 0 && i + kHugePages <= npages;
    // 2 MiB units: an empty aligned block, the huge zero page, a THP or a
    // PMD-level device-private folio.
    if (whole_block) {
      const auto ents = mm.entries(va, va + kHugeSize);
      const bool hole = ents.empty() || (p.pmd && is_zero(sys, p) && sel_sys);
      const bool own_dev = p.kind == PteKind::DevicePrivate && sel_dev && sys.pagemaps.find(p.pfn) &&
                           sys.pagemaps.find(p.pfn)->owner == a.pgmap_owner;
      const bool thp = p.pmd && p.kind == PteKind::Present && !is_zero(sys, p) && sel_sys && p.anon;
      if (compound && hole && vma->anonymous()) {
        a.src[i] = kMigratePfnMigrate | kMigratePfnCompound;
        ++a.cpages;
        i += kHugePages;
        continue;
      }
      bool movable = p.pmd && (thp || own_dev) && (p.pfn & (kHugePages - 1)) == 0 && intact_folio(sys, mm, va, p);
      for (uint64_t k = 0; k < kHugePages && movable; ++k) movable = !pinned(sys, p.pfn + k);
      if (compound && movable) {
        bool write = false;
        for (uint64_t k = 0; k < kHugePages; ++k) write |= isolate(sys, p.pfn + k, &mm, va + (k << kPageShift));
        a.src[i] = migrate_pfn(p.pfn) | kMigratePfnMigrate | kMigratePfnCompound | (write ? kMigratePfnWrite : 0);
        ++a.cpages;
        i += kHugePages;
        continue;
      }
    }
    // Below 2 MiB: a page of a PMD-mapped folio that will be collected is
    // split out first, in every process mapping the folio. Pages that are
    // not selected leave their mapping alone.
    const bool selectable =
        (p.kind == PteKind::Present && sel_sys && p.anon && !is_zero(sys, p)) ||
        (p.kind == PteKind::DevicePrivate && sel_dev && sys.pagemaps.find(p.pfn) &&
         sys.pagemaps.find(p.pfn)->owner == a.pgmap_owner);
    if (p.pmd && is_zero(sys, p) && sel_sys) {  // the huge zero page: split this mapping only
      mm.notifiers().invalidate({va & ~(kHugeSize - 1), (va & ~(kHugeSize - 1)) + kHugeSize, NotifyEvent::Clear,
                                 nullptr});
      mm.split_pmd(va);
      p = mm.pte(va);
    } else if (selectable && pmd_mapped(sys, p.pfn)) {
      split_folio_everywhere(sys, p.pfn);
      p = mm.pte(va);
    }
    uint64_t m = 0;
    switch (p.kind) {
      case PteKind::None:
        // Holes migrate as zero-filled pages, in anonymous VMAs only.
        if (vma->anonymous()) m = kMigratePfnMigrate;
        break;
      case PteKind::Present:
        if (!sel_sys) break;
        if (is_zero(sys, p)) {
          m = kMigratePfnMigrate;  // like a hole: no source data
          break;
        }
        if (!p.anon || pinned(sys, p.pfn)) break;  // page cache and pinned pages stay
        m = migrate_pfn(p.pfn) | kMigratePfnMigrate |
            (isolate(sys, p.pfn, &mm, va) ? kMigratePfnWrite : 0);
        break;
      case PteKind::DevicePrivate: {
        const DevicePagemap* pm = sys.pagemaps.find(p.pfn);
        if (!sel_dev || !pm || pm->owner != a.pgmap_owner || pinned(sys, p.pfn)) break;
        m = migrate_pfn(p.pfn) | kMigratePfnMigrate | (isolate(sys, p.pfn, &mm, va) ? kMigratePfnWrite : 0);
        break;
      }
      case PteKind::Migration:
      case PteKind::Exclusive:
        break;
    }
    a.src[i] = m;
    if (m & kMigratePfnMigrate) ++a.cpages;
    ++i;
  }
  return Status::Ok;
}

void migrate_vma_pages(AddressSpace& mm, MigrateVma& a) {
  HostSystem& sys = mm.system();
  const Vma* vma = mm.find_vma(a.start);
  const uint64_t npages = a.src.size();
  for (uint64_t i = 0; i < npages; ++i) {
    uint64_t& s = a.src[i];
    const uint64_t d = a.dst[i];
    if (!(s & kMigratePfnMigrate)) continue;
    if (!(d & kMigratePfnValid)) {
      s &= ~kMigratePfnMigrate;
      continue;
    }
    const uint64_t va = a.start + (i << kPageShift);
    const bool s_comp = s & kMigratePfnCompound, d_comp = d & kMigratePfnCompound;
    if (!(s & kMigratePfnValid)) {
      // A hole: populate it only in an anonymous VMA, and only if the CPU did
      // not map a page meanwhile. A compound hole with 4 KiB dsts fills 512.
      const uint64_t n = s_comp ? kHugePages : 1;
      bool empty = vma && vma->anonymous();
      for (uint64_t k = 0; k < n && empty; ++k) {
        const Pte p = mm.pte(va + (k << kPageShift));
        empty = p.kind == PteKind::None || is_zero(sys, p);
      }
      if (!empty || (s_comp && !d_comp && i + n > npages)) {
        s &= ~kMigratePfnMigrate;
        continue;
      }
      const bool write = vma->prot & kProtWrite;
      for (uint64_t k = 0; k < n; ++k) {
        const uint64_t dk = d_comp ? d + (k << kMigratePfnShift) : a.dst[i + k];
        if (!(dk & kMigratePfnValid)) continue;  // that subpage stays a hole
        const Pfn np = migrate_pfn_to_pfn(dk);
        const uint64_t addr = va + (k << kPageShift);
        mm.release_page(mm.pte(addr));  // the zero page: no-op
        Pte n2;
        n2.kind = DevicePagemaps::is_device(np) ? PteKind::DevicePrivate : PteKind::Present;
        n2.write = write;
        n2.dirty = true;
        n2.anon = true;
        n2.pmd = d_comp;
        n2.pfn = np;
        mm.set_pte(addr, n2);
        if (!d_comp && k > 0) a.src[i + k] = kMigratePfnMigrate;
      }
      s = kMigratePfnMigrate | (s_comp && d_comp ? kMigratePfnCompound : 0);
      if (s_comp && !d_comp) i += kHugePages - 1;
      continue;
    }
    if (d_comp && !s_comp) {
      s &= ~kMigratePfnMigrate;
      continue;
    }
    if (s_comp && !d_comp) {
      // Split the isolated source folio so each subpage migrates alone.
      const Pfn head = migrate_pfn_to_pfn(s);
      const uint64_t flags = s & (kMigratePfnMigrate | kMigratePfnWrite | kMigratePfnValid);
      for (uint64_t k = 0; k < kHugePages && i + k < npages; ++k) {
        a.src[i + k] = ((head + k) << kMigratePfnShift) | flags;
        for (auto [m2, va2] : sys.rmap.mappings(head + k)) {
          Pte p = m2->pte(va2);
          if (p.pmd) {
            p.pmd = false;
            m2->set_pte(va2, p);
          }
        }
      }
    }
  }
}

void migrate_vma_finalize(AddressSpace& mm, MigrateVma& a) {
  HostSystem& sys = mm.system();
  const uint64_t npages = a.src.size();
  for (uint64_t i = 0; i < npages; ++i) {
    const uint64_t s = a.src[i], d = a.dst[i];
    const bool s_comp = s & kMigratePfnCompound, d_comp = d & kMigratePfnCompound;
    if (!(s & kMigratePfnValid)) {
      // A hole: inserted pages now belong to their mappings; an unused dst
      // goes back to its owner.
      if (!(s & kMigratePfnMigrate) && (d & kMigratePfnValid))
        for (uint64_t k = 0; k < (d_comp ? kHugePages : 1); ++k) put_page(sys, migrate_pfn_to_pfn(d) + k);
      continue;
    }
    const bool moved = (s & kMigratePfnMigrate) && (d & kMigratePfnValid);
    const Pfn old = migrate_pfn_to_pfn(s);
    const uint64_t sub = s_comp ? kHugePages : 1;
    for (uint64_t k = 0; k < sub; ++k) {
      settle(sys, old + k, moved, moved ? migrate_pfn_to_pfn(d) + (d_comp ? k : 0) : 0, d_comp);
      put_page(sys, old + k);  // the collection's own reference
    }
    if (!moved && (d & kMigratePfnValid))
      for (uint64_t k = 0; k < (d_comp ? kHugePages : 1); ++k) put_page(sys, migrate_pfn_to_pfn(d) + k);
  }
}

// ---- eviction by device pfn ------------------------------------------------

void migrate_device_range(HostSystem& sys, MigrateDevice& a, Pfn start_pfn, uint64_t n) {
  a.start_pfn = start_pfn;
  a.src.assign(n, 0);
  a.dst.assign(n, 0);
  for (uint64_t i = 0; i < n; ++i) {
    const Pfn pfn = start_pfn + i;
    if (sys.pagemaps.refcount(pfn) == 0 || pinned(sys, pfn)) continue;
    const bool write = isolate(sys, pfn, nullptr, 0);
    a.src[i] = migrate_pfn(pfn) | kMigratePfnMigrate | (write ? kMigratePfnWrite : 0);
  }
}

void migrate_device_pages(HostSystem&, MigrateDevice& a) {
  for (uint64_t i = 0; i < a.src.size(); ++i)
    if ((a.src[i] & kMigratePfnMigrate) && !(a.dst[i] & kMigratePfnValid)) a.src[i] &= ~kMigratePfnMigrate;
}

void migrate_device_finalize(HostSystem& sys, MigrateDevice& a) {
  for (uint64_t i = 0; i < a.src.size(); ++i) {
    const uint64_t s = a.src[i], d = a.dst[i];
    if (!(s & kMigratePfnValid)) continue;
    const bool moved = (s & kMigratePfnMigrate) && (d & kMigratePfnValid);
    settle(sys, migrate_pfn_to_pfn(s), moved, moved ? migrate_pfn_to_pfn(d) : 0, false);
    put_page(sys, migrate_pfn_to_pfn(s));  // the collection's own reference
    if (!moved && (d & kMigratePfnValid)) put_page(sys, migrate_pfn_to_pfn(d));
  }
}

}  // namespace hmmsim::host
