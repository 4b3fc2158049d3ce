// fork and exit, file mappings, hugetlb and make_device_exclusive against the
// Linux semantics of the HMM test spec (§5 fork, §6 device-exclusive, §7 events).
// Every test checks PTE state, page references, notifier traffic, VMAs and data.
#include "mm_ops_fixture.h"

// ---- fork and exit ------------------------------------------------------------

TEST_F(MmOpsFork, ProtectionPageOnlyForPrivateVmasWithPages) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 16 * P, 2 * P, kRW, VmaKind::AnonShared), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 32 * P, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + 16 * P, 2), Status::Ok);
  w.ev.clear();
  auto child = mm.fork();
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + 4 * P, NotifyEvent::ProtectionPage, nullptr}}));
  EXPECT_EQ(spans(*child), spans(mm));
  for (const auto& [s, v] : child->vmas()) EXPECT_EQ(v.kind, mm.find_vma(s)->kind);
  EXPECT_EQ(child->find_vma(kBase + 16 * P)->file, mm.find_vma(kBase + 16 * P)->file);  // same shmem object
}

TEST_F(MmOpsFork, PrivatePagesAreSharedReadOnlyAndChildWriteCopies) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + P, 2), Status::Ok);
  const Pfn p0 = mm.pte(kBase).pfn;
  auto child = mm.fork();
  Watch cw(*child);
  for (AddressSpace* a : {&mm, child.get()}) {
    const Pte p = a->pte(kBase);
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_FALSE(p.write);
    EXPECT_EQ(p.pfn, p0);
    EXPECT_TRUE(p.anon);
  }
  EXPECT_EQ(sys.phys.refcount(p0), 2u);
  EXPECT_EQ(sys.rmap.mapcount(p0), 2u);
  w.ev.clear();

  ASSERT_EQ(fill(*child, kBase, 77), Status::Ok);
  EXPECT_EQ(cw.ev, (Evs{{kBase, kBase + P, NotifyEvent::Clear, nullptr}}));
  EXPECT_TRUE(w.ev.empty());
  const Pte c = child->pte(kBase);
  EXPECT_NE(c.pfn, p0);
  EXPECT_TRUE(c.write && c.anon && c.dirty);
  EXPECT_EQ(child->s_cow_copies, 1u);
  EXPECT_EQ(sys.phys.refcount(p0), 1u);
  EXPECT_EQ(sys.phys.refcount(c.pfn), 1u);
  EXPECT_EQ(peek(mm, kBase), page_pattern(1));
  EXPECT_EQ(peek(*child, kBase), page_pattern(77));
  EXPECT_EQ(peek(*child, kBase + P), page_pattern(2));

  // The parent is the sole owner again: its write reuses the page.
  ASSERT_EQ(fill(mm, kBase, 5), Status::Ok);
  EXPECT_EQ(mm.pte(kBase).pfn, p0);
  EXPECT_TRUE(mm.pte(kBase).write);
  EXPECT_EQ(mm.s_cow_copies, 0u);
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(peek(*child, kBase), page_pattern(77));
}

TEST_F(MmOpsFork, SharedAnonStaysSharedAndWritable) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonShared), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  const Pfn pc = mm.pte(kBase).pfn;
  w.ev.clear();
  auto child = mm.fork();
  Watch cw(*child);
  EXPECT_TRUE(w.ev.empty());
  EXPECT_TRUE(mm.pte(kBase).write);
  EXPECT_TRUE(child->pte(kBase).write);
  EXPECT_EQ(child->pte(kBase).pfn, pc);
  EXPECT_EQ(sys.phys.refcount(pc), 3u);  // page cache + two mappings
  ASSERT_EQ(fill(*child, kBase, 5), Status::Ok);
  EXPECT_TRUE(cw.ev.empty());
  EXPECT_EQ(child->s_cow_copies, 0u);
  EXPECT_EQ(peek(mm, kBase), page_pattern(5));
}

TEST_F(MmOpsFork, WritableDevicePrivateEntriesBecomeReadOnlyInBoth) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + P, 2), Status::Ok);
  ASSERT_EQ(dev.migrate(mm, kBase, kBase + 2 * P), 2u);
  const Pfn d0 = mm.pte(kBase).pfn;
  ASSERT_TRUE(mm.pte(kBase).write);
  w.ev.clear();
  auto child = mm.fork();
  Watch cw(*child);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + 2 * P, NotifyEvent::ProtectionPage, nullptr}}));
  for (AddressSpace* a : {&mm, child.get()})
    for (uint64_t i = 0; i < 2; ++i) {
      const Pte p = a->pte(kBase + i * P);
      EXPECT_EQ(p.kind, PteKind::DevicePrivate);
      EXPECT_FALSE(p.write);
    }
  EXPECT_EQ(child->pte(kBase).pfn, d0);
  EXPECT_EQ(sys.pagemaps.refcount(d0), 2u);
  EXPECT_EQ(sys.rmap.mapcount(d0), 2u);
  w.ev.clear();

  // A CPU read in the child migrates the page back for both (§5); both map
  // the new system page read-only.
  EXPECT_EQ(peek(*child, kBase), page_pattern(1));
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + P, NotifyEvent::Clear, nullptr}}));
  const Pte c = child->pte(kBase);
  EXPECT_EQ(c.kind, PteKind::Present);
  EXPECT_FALSE(c.write);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase).pfn, c.pfn);
  EXPECT_EQ(sys.phys.refcount(c.pfn), 2u);
  EXPECT_EQ(sys.pagemaps.refcount(d0), 0u);
  EXPECT_EQ(dev.freed.size(), 1u);
  // Then a write copies as usual; the parent keeps its data.
  ASSERT_EQ(fill(*child, kBase, 8), Status::Ok);
  EXPECT_EQ(peek(mm, kBase), page_pattern(1));
  EXPECT_EQ(sys.phys.refcount(c.pfn), 1u);
}

TEST_F(MmOpsFork, ExclusiveEntryIsRestoredInTheParent) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  int owner = 0;
  Pfn x = kNoPfn;
  ASSERT_EQ(mm.make_device_exclusive(kBase, &owner, &x), Status::Ok);
  ASSERT_EQ(mm.pte(kBase).kind, PteKind::Exclusive);
  w.ev.clear();
  auto child = mm.fork();
  ASSERT_FALSE(w.ev.empty());
  EXPECT_EQ(w.ev.front(), (Ev{kBase, kBase + 2 * P, NotifyEvent::ProtectionPage, nullptr}));
  for (const Ev& e : w.ev) {
    EXPECT_NE(e.event, NotifyEvent::Exclusive);
    EXPECT_EQ(e.owner, nullptr);
  }
  for (AddressSpace* a : {&mm, child.get()}) {
    const Pte p = a->pte(kBase);
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_FALSE(p.write);
    EXPECT_EQ(p.owner, nullptr);
    EXPECT_EQ(p.pfn, x);
  }
  EXPECT_EQ(sys.phys.refcount(x), 2u);
  EXPECT_EQ(mm.s_exclusive_restores, 1u);
  EXPECT_EQ(peek(*child, kBase), page_pattern(1));
  EXPECT_EQ(peek(mm, kBase), page_pattern(1));
}

TEST_F(MmOpsFork, ExitRaisesReleaseAndDropsEveryReference) {
  const uint64_t f0 = sys.phys.free_frames();
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 16 * P, P, kRW, VmaKind::AnonShared), Status::Ok);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(fill(mm, kBase + i * P, i), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + 16 * P, 9), Status::Ok);
  ASSERT_EQ(dev.migrate(mm, kBase + 3 * P, kBase + 4 * P), 1u);
  const Pfn p0 = mm.pte(kBase).pfn, d3 = mm.pte(kBase + 3 * P).pfn;
  auto child = mm.fork();
  {
    Watch cw(*child);
    ASSERT_EQ(fill(*child, kBase, 7), Status::Ok);  // one COW copy
    cw.ev.clear();
    child->exit();
    EXPECT_EQ(cw.ev, (Evs{{0, ~0ull, NotifyEvent::Release, nullptr}}));
  }
  EXPECT_TRUE(child->exited());
  EXPECT_TRUE(child->vmas().empty());
  EXPECT_TRUE(child->entries(0, ~0ull).empty());
  EXPECT_EQ(sys.phys.refcount(p0), 1u);
  EXPECT_EQ(sys.phys.refcount(mm.pte(kBase + P).pfn), 1u);
  EXPECT_EQ(sys.pagemaps.refcount(d3), 1u);
  EXPECT_EQ(peek(mm, kBase + 16 * P), page_pattern(9));
  w.ev.clear();

  mm.exit();
  EXPECT_EQ(w.ev, (Evs{{0, ~0ull, NotifyEvent::Release, nullptr}}));
  EXPECT_EQ(sys.phys.free_frames(), f0);
  EXPECT_EQ(sys.pagemaps.refcount(d3), 0u);
  EXPECT_EQ(dev.freed.size(), 1u);
  EXPECT_EQ(mm.fork()->vmas().size(), 0u);  // nothing left to copy
  EXPECT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Inval);
}

// ---- file mappings ------------------------------------------------------------

TEST_F(MmOpsFile, SharedWriteReachesThePageCacheAndMarksItDirty) {
  auto f = std::make_shared<MemFile>(sys.phys, "file");
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::FileShared, f, 0), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + P, 3), Status::Ok);
  const Pfn pc = f->find(1);
  ASSERT_NE(pc, kNoPfn);
  const Pte p = mm.pte(kBase + P);
  EXPECT_EQ(p.kind, PteKind::Present);
  EXPECT_EQ(p.pfn, pc);
  EXPECT_TRUE(p.write && p.dirty);
  EXPECT_FALSE(p.anon);
  EXPECT_EQ(sys.phys.refcount(pc), 2u);
  EXPECT_TRUE(f->dirty(1));
  EXPECT_FALSE(f->dirty(0));
  EXPECT_EQ(f->cached_pages(), 1u);
  std::vector<uint8_t> data(P);
  sys.phys.read(pc, 0, data.data(), P);
  EXPECT_EQ(data, page_pattern(3));
  EXPECT_EQ(f->writeback(), 1u);
  EXPECT_FALSE(f->dirty(1));
  // A second mapping at file offset 1 sees the same page.
  ASSERT_EQ(mm.mmap_fixed(kBase + 16 * P, P, kProtRead, VmaKind::FileShared, f, 1), Status::Ok);
  EXPECT_EQ(peek(mm, kBase + 16 * P), page_pattern(3));
  EXPECT_EQ(mm.pte(kBase + 16 * P).pfn, pc);
  EXPECT_TRUE(w.ev.empty());
}

TEST_F(MmOpsFile, PrivateReadMapsThePageCacheAndWriteCopies) {
  auto f = std::make_shared<MemFile>(sys.phys, "file");
  const Pfn pc = f->page(0);
  const std::vector<uint8_t> orig = page_pattern(4);
  sys.phys.write(pc, 0, orig.data(), P);
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::FilePrivate, f, 0), Status::Ok);
  EXPECT_EQ(peek(mm, kBase), orig);
  Pte p = mm.pte(kBase);
  EXPECT_EQ(p.kind, PteKind::Present);
  EXPECT_EQ(p.pfn, pc);
  EXPECT_FALSE(p.write);
  EXPECT_FALSE(p.anon);
  EXPECT_EQ(sys.phys.refcount(pc), 2u);
  EXPECT_TRUE(w.ev.empty());

  ASSERT_EQ(fill(mm, kBase, 5), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + P, NotifyEvent::Clear, nullptr}}));
  p = mm.pte(kBase);
  EXPECT_NE(p.pfn, pc);
  EXPECT_TRUE(p.write && p.anon && p.dirty);
  EXPECT_EQ(sys.phys.refcount(pc), 1u);
  std::vector<uint8_t> cache(P);
  sys.phys.read(pc, 0, cache.data(), P);
  EXPECT_EQ(cache, orig);
  EXPECT_FALSE(f->dirty(0));
  EXPECT_EQ(peek(mm, kBase), page_pattern(5));
}

// §7: faulting a pte_none page in raises no notifier (do_cow_fault).
TEST_F(MmOpsFile, PrivateWriteFaultOnUntouchedPageRaisesNothing) {
  auto f = std::make_shared<MemFile>(sys.phys, "file");
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::FilePrivate, f, 0), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 5), Status::Ok);
  EXPECT_TRUE(mm.pte(kBase).anon);
  EXPECT_TRUE(w.ev.empty());
}

// ---- hugetlb ------------------------------------------------------------------

TEST_F(MmOpsHugetlb, FaultAllocatesA2MiBPage) {
  EXPECT_EQ(mm.mmap_fixed(kBase + P, M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Inval);
  EXPECT_EQ(mm.mmap_fixed(kBase, M2 + P, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Inval);
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Ok);
  const uint64_t f0 = sys.phys.free_frames();
  EXPECT_EQ(peek(mm, kBase + 3 * P), kZeroPage);  // even a read allocates: no zero page
  const auto ents = mm.entries(kBase, kBase + M2);
  ASSERT_EQ(ents.size(), kHugePages);
  const Pfn head = ents[0].second.pfn;
  EXPECT_EQ(head % kHugePages, 0u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte& p = ents[i].second;
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_TRUE(p.pmd && p.write && p.anon) << i;
    EXPECT_EQ(p.pfn, head + i);
  }
  EXPECT_EQ(sys.phys.free_frames(), f0 - kHugePages);
  EXPECT_EQ(mm.s_thp_faults, 1u);
  EXPECT_EQ(mm.s_zero_page_maps, 0u);
  EXPECT_EQ(mm.mprotect(kBase, P, kProtRead), Status::Inval);
  EXPECT_TRUE(w.ev.empty());
}

TEST_F(MmOpsHugetlb, PrivateCowAfterForkCopiesTheWholePage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + 511 * P, 2), Status::Ok);
  const Pfn head = mm.pte(kBase).pfn;
  w.ev.clear();
  auto child = mm.fork();
  Watch cw(*child);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::ProtectionPage, nullptr}}));
  for (uint64_t i = 0; i < kHugePages; ++i) {
    EXPECT_FALSE(mm.pte(kBase + i * P).write);
    EXPECT_FALSE(child->pte(kBase + i * P).write);
    EXPECT_EQ(sys.phys.refcount(head + i), 2u);
  }
  const uint64_t f0 = sys.phys.free_frames();
  w.ev.clear();

  ASSERT_EQ(fill(*child, kBase + P, 9), Status::Ok);
  EXPECT_EQ(cw.ev, (Evs{{kBase, kBase + M2, NotifyEvent::Clear, nullptr}}));
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(child->s_cow_copies, 1u);
  EXPECT_EQ(sys.phys.free_frames(), f0 - kHugePages);
  const Pfn nhead = child->pte(kBase).pfn;
  EXPECT_NE(nhead, head);
  EXPECT_EQ(nhead % kHugePages, 0u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte c = child->pte(kBase + i * P);
    EXPECT_EQ(c.pfn, nhead + i);
    EXPECT_TRUE(c.pmd && c.write) << i;
    EXPECT_EQ(sys.phys.refcount(head + i), 1u);
    EXPECT_EQ(mm.pte(kBase + i * P).pfn, head + i);
  }
  EXPECT_EQ(peek(*child, kBase), page_pattern(1));
  EXPECT_EQ(peek(*child, kBase + P), page_pattern(9));
  EXPECT_EQ(peek(*child, kBase + 511 * P), page_pattern(2));
  EXPECT_EQ(peek(mm, kBase + P), kZeroPage);
  EXPECT_EQ(peek(mm, kBase + 511 * P), page_pattern(2));
}

TEST_F(MmOpsHugetlb, MigrateSetupIsInval) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  w.ev.clear();
  MigrateVma a;
  a.start = kBase;
  a.end = kBase + M2;
  a.flags = kSelectSystem | kSelectCompound;
  a.pgmap_owner = &dev;
  EXPECT_EQ(migrate_vma_setup(mm, a), Status::Inval);
  a.end = kBase + P;
  EXPECT_EQ(migrate_vma_setup(mm, a), Status::Inval);
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(dev.migrate(mm, kBase, kBase + P), 0u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_TRUE(mm.pte(kBase).pmd);
}

// ---- make_device_exclusive ----------------------------------------------------

TEST_F(MmOpsExclusive, InstallsEntryAndRaisesExclusiveWithOwner) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  const Pfn pfn = mm.pte(kBase).pfn;
  int owner = 0;
  Pfn got = kNoPfn;
  ASSERT_EQ(mm.make_device_exclusive(kBase + 5, &owner, &got), Status::Ok);  // page-aligned down
  EXPECT_EQ(got, pfn);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + P, NotifyEvent::Exclusive, &owner}}));
  const Pte p = mm.pte(kBase);
  EXPECT_EQ(p.kind, PteKind::Exclusive);
  EXPECT_EQ(p.owner, &owner);
  EXPECT_EQ(p.pfn, pfn);
  EXPECT_TRUE(p.write);
  EXPECT_EQ(sys.phys.refcount(pfn), 1u);
  EXPECT_EQ(sys.rmap.mapcount(pfn), 1u);

  // An untouched page is faulted in writable first: no extra event.
  w.ev.clear();
  ASSERT_EQ(mm.make_device_exclusive(kBase + P, &owner, &got), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase + P, kBase + 2 * P, NotifyEvent::Exclusive, &owner}}));
  EXPECT_EQ(mm.pte(kBase + P).kind, PteKind::Exclusive);
  EXPECT_EQ(mm.pte(kBase + P).pfn, got);
  EXPECT_NE(got, sys.phys.zero_pfn());
}

TEST_F(MmOpsExclusive, CpuAccessRestoresWithClear) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + P, 2), Status::Ok);
  int owner = 0;
  Pfn x0 = kNoPfn, x1 = kNoPfn;
  ASSERT_EQ(mm.make_device_exclusive(kBase, &owner, &x0), Status::Ok);
  ASSERT_EQ(mm.make_device_exclusive(kBase + P, &owner, &x1), Status::Ok);
  w.ev.clear();
  EXPECT_EQ(peek(mm, kBase), page_pattern(1));
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + P, NotifyEvent::Clear, nullptr}}));
  Pte p = mm.pte(kBase);
  EXPECT_EQ(p.kind, PteKind::Present);
  EXPECT_EQ(p.owner, nullptr);
  EXPECT_EQ(p.pfn, x0);
  EXPECT_TRUE(p.write);
  EXPECT_EQ(mm.s_exclusive_restores, 1u);
  EXPECT_EQ(mm.pte(kBase + P).kind, PteKind::Exclusive);  // only the touched page

  w.ev.clear();
  ASSERT_EQ(fill(mm, kBase + P, 3), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase + P, kBase + 2 * P, NotifyEvent::Clear, nullptr}}));
  p = mm.pte(kBase + P);
  EXPECT_EQ(p.kind, PteKind::Present);
  EXPECT_EQ(p.pfn, x1);  // restored in place, no copy
  EXPECT_EQ(mm.s_cow_copies, 0u);
  EXPECT_EQ(peek(mm, kBase + P), page_pattern(3));
}

TEST_F(MmOpsExclusive, ThpIsSplitFirst) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
  ASSERT_EQ(tag(mm, kBase, 1), Status::Ok);
  const Pfn head = mm.pte(kBase).pfn;
  int owner = 0;
  Pfn x = kNoPfn;
  ASSERT_EQ(mm.make_device_exclusive(kBase + 3 * P, &owner, &x), Status::Ok);
  EXPECT_EQ(x, head + 3);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::Clear, nullptr},
                       {kBase + 3 * P, kBase + 4 * P, NotifyEvent::Exclusive, &owner}}));
  for (uint64_t i = 0; i < kHugePages; ++i) EXPECT_FALSE(mm.pte(kBase + i * P).pmd) << i;
  EXPECT_EQ(mm.pte(kBase + 3 * P).kind, PteKind::Exclusive);
}

TEST_F(MmOpsExclusive, ErrorsForNonAnonymousAndUnwritableMemory) {
  auto f = std::make_shared<MemFile>(sys.phys, "file");
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonShared), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + P, P, kRW, VmaKind::FileShared, f, 0), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 2 * P, P, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 3 * P, P, kProtNone, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + M2, M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + M2, 1), Status::Ok);
  w.ev.clear();
  int owner = 0;
  Pfn x = kNoPfn;
  EXPECT_EQ(mm.make_device_exclusive(kBase, &owner, &x), Status::NotSupp);
  EXPECT_EQ(mm.make_device_exclusive(kBase + P, &owner, &x), Status::NotSupp);
  EXPECT_EQ(mm.make_device_exclusive(kBase + M2, &owner, &x), Status::NotSupp);
  EXPECT_EQ(mm.make_device_exclusive(kBase + 2 * P, &owner, &x), Status::Fault);
  EXPECT_EQ(mm.make_device_exclusive(kBase + 3 * P, &owner, &x), Status::Fault);
  EXPECT_EQ(mm.make_device_exclusive(kBase + 4 * P, &owner, &x), Status::Fault);  // no VMA
  EXPECT_EQ(x, kNoPfn);
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::None);
  EXPECT_EQ(mm.pte(kBase + M2).kind, PteKind::Present);
}

// §6: the check is on the folio: a COW-broken page of a private file mapping
// is anonymous, and GUP for write breaks COW first.
TEST_F(MmOpsExclusive, PrivateFileMappingCowPageIsAnonymous) {
  auto f = std::make_shared<MemFile>(sys.phys, "file");
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::FilePrivate, f, 0), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  int owner = 0;
  Pfn x = kNoPfn;
  ASSERT_EQ(mm.make_device_exclusive(kBase, &owner, &x), Status::Ok);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Exclusive);
  EXPECT_TRUE(mm.pte(kBase).anon);
}
