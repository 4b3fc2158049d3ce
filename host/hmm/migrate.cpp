#include "host/hmm/migrate.h"

#include <cassert>

namespace hmmsim::host {

Status migrate_vma_setup(AddressSpace& mm, MigrateVma& a) {
  if (!page_aligned(a.start) || !page_aligned(a.end) || a.end <= a.start) return Status::Inval;
  const Vma* vma = mm.find_vma(a.start);
  if (!vma || a.end > vma->end) return Status::Inval;
  const uint64_t npages = (a.end - a.start) >> kPageShift;
  a.src.assign(npages, 0);
  a.dst.assign(npages, 0);
  a.cpages = 0;

  // Mirrors drop the range before pages are isolated; the migrating driver
  // recognises its own event by the owner and skips it.
  mm.notifiers().invalidate({a.start, a.end, NotifyEvent::Migrate, a.pgmap_owner});

  PhysMem& phys = mm.system().phys;
  for (uint64_t i = 0; i < npages; ++i) {
    const uint64_t va = a.start + (i << kPageShift);
    Pte p = mm.pte(va);
    uint64_t m = 0;
    switch (p.kind) {
      case PteKind::None:
        // Holes migrate as zero-filled pages, in anonymous memory only.
        if ((a.flags & kSelectSystem) && vma->anonymous()) m = kMigratePfnMigrate;
        break;
      case PteKind::Present:
        if (!(a.flags & kSelectSystem)) break;
        if (p.pfn == phys.zero_pfn()) {
          m = kMigratePfnMigrate;  // zero page: like a hole, no source data
          break;
        }
        // A page shared with another mapping (COW after fork) stays put.
        if (phys.refcount(p.pfn) > 1) break;
        m = migrate_pfn(p.pfn) | kMigratePfnMigrate | (p.write ? kMigratePfnWrite : 0);
        break;
      case PteKind::DevicePrivate: {
        const DevicePagemap* pm = mm.system().pagemaps.find(p.pfn);
        if (!(a.flags & kSelectDevicePrivate) || !pm || pm->owner != a.pgmap_owner) break;
        m = migrate_pfn(p.pfn) | kMigratePfnMigrate | (p.write ? kMigratePfnWrite : 0);
        break;
      }
      case PteKind::Migration:
        break;  // someone else is migrating it
    }
    if (m & kMigratePfnValid) {
      // Isolate: CPU accesses now wait on the migration entry.
      p.kind = PteKind::Migration;
      mm.set_pte(va, p);
    }
    a.src[i] = m;
    if (m & kMigratePfnMigrate) ++a.cpages;
  }
  return Status::Ok;
}

void migrate_vma_pages(AddressSpace& mm, MigrateVma& a) {
  const uint64_t npages = a.src.size();
  for (uint64_t i = 0; i < npages; ++i) {
    if (!(a.src[i] & kMigratePfnMigrate)) continue;
    if (!(a.dst[i] & kMigratePfnValid)) {
      a.src[i] &= ~kMigratePfnMigrate;
      continue;
    }
    if (!(a.src[i] & kMigratePfnValid)) {
      // A hole: only populate it if the CPU did not fault a page in meanwhile.
      Pte p = mm.pte(a.start + (i << kPageShift));
      bool still_empty = p.kind == PteKind::None ||
                         (p.kind == PteKind::Present && p.pfn == mm.system().phys.zero_pfn());
      if (!still_empty) a.src[i] &= ~kMigratePfnMigrate;
    }
  }
}

void migrate_vma_finalize(AddressSpace& mm, MigrateVma& a) {
  HostSystem& sys = mm.system();
  const uint64_t npages = a.src.size();
  for (uint64_t i = 0; i < npages; ++i) {
    const uint64_t va = a.start + (i << kPageShift);
    const uint64_t s = a.src[i], d = a.dst[i];
    const bool moved = (s & kMigratePfnMigrate) && (d & kMigratePfnValid);
    Pte old = mm.pte(va);
    if (moved) {
      Pfn np = migrate_pfn_to_pfn(d);
      Pte n;
      n.kind = DevicePagemaps::is_device(np) ? PteKind::DevicePrivate : PteKind::Present;
      // Like remove_migration_ptes / migrate_vma_insert_page: a moved page
      // keeps its old writability; a filled hole takes the VMA's.
      const Vma* vma = mm.find_vma(va);
      n.write = (s & kMigratePfnValid) ? old.write : (vma && (vma->prot & kProtWrite));
      n.dirty = true;  // the new page holds data the old one had
      n.pfn = np;
      mm.release_page(old);  // no-op for holes and the zero page
      mm.set_pte(va, n);
      continue;
    }
    // Not migrated: restore the isolated page, give back an unused dst.
    if (old.kind == PteKind::Migration && (s & kMigratePfnValid)) {
      old.kind = DevicePagemaps::is_device(old.pfn) ? PteKind::DevicePrivate : PteKind::Present;
      mm.set_pte(va, old);
    }
    if (d & kMigratePfnValid) {
      Pfn dp = migrate_pfn_to_pfn(d);
      if (DevicePagemaps::is_device(dp))
        sys.pagemaps.put(dp);
      else
        sys.phys.put(dp);
    }
  }
}

}  // namespace hmmsim::host
