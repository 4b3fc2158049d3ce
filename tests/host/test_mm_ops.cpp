// munmap, mprotect, mremap and madvise (THP, huge zero page, DONTNEED, FREE and
// reclaim) against the Linux semantics of the HMM test spec (§7 notifier events).
// Every test checks PTE state, page references, notifier traffic (event, exact
// range, owner, order), VMA lists and data. fork, files, hugetlb and exclusive
// access: test_mm_fork.cpp.
#include "mm_ops_fixture.h"

// ---- munmap -------------------------------------------------------------------

TEST_F(MmOpsMunmap, PartialSplitsVmaAndFreesOnlyTheHole) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 8 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const uint64_t f0 = sys.phys.free_frames();
  for (uint32_t i = 0; i < 8; ++i) ASSERT_EQ(fill(mm, kBase + i * P, i), Status::Ok);
  EXPECT_EQ(sys.phys.free_frames(), f0 - 8);
  EXPECT_TRUE(w.ev.empty());  // faulting pages in raises nothing

  ASSERT_EQ(mm.munmap(kBase + 2 * P, 3 * P), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase + 2 * P, kBase + 5 * P, NotifyEvent::Unmap, nullptr}}));
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 2 * P, kRW}, {kBase + 5 * P, kBase + 8 * P, kRW}}));
  EXPECT_EQ(sys.phys.free_frames(), f0 - 5);
  EXPECT_EQ(mapped(mm, kBase, kBase + 8 * P),
            (std::vector<uint64_t>{kBase, kBase + P, kBase + 5 * P, kBase + 6 * P, kBase + 7 * P}));
  for (uint32_t i : {0u, 1u, 5u, 6u, 7u}) EXPECT_EQ(peek(mm, kBase + i * P), page_pattern(i)) << "page " << i;
  uint8_t b = 0;
  EXPECT_EQ(mm.cpu_read(kBase + 3 * P, &b, 1), Status::Fault);
}

TEST_F(MmOpsMunmap, InsideThpSplitsPmdAndKeepsTheRest) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
  ASSERT_EQ(tag(mm, kBase, 0), Status::Ok);
  ASSERT_EQ(mm.entries(kBase, kBase + M2).size(), kHugePages);
  const Pfn head = mm.pte(kBase).pfn;
  for (uint64_t i = 0; i < kHugePages; ++i) {
    ASSERT_TRUE(mm.pte(kBase + i * P).pmd);
    ASSERT_EQ(tag(mm, kBase + i * P, 1000 + i), Status::Ok);
  }
  const uint64_t f0 = sys.phys.free_frames();

  ASSERT_EQ(mm.munmap(kBase + 128 * P, 128 * P), Status::Ok);
  EXPECT_EQ(w.of(NotifyEvent::Unmap), (Evs{{kBase + 128 * P, kBase + 256 * P, NotifyEvent::Unmap, nullptr}}));
  EXPECT_EQ(mm.s_thp_splits, 1u);
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 128 * P, kRW},
                                          {kBase + 256 * P, kBase + M2, kRW},
                                          {kBase + M2, kBase + 2 * M2, kRW}}));
  EXPECT_EQ(mm.entries(kBase, kBase + M2).size(), kHugePages - 128);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    if (i >= 128 && i < 256) {
      EXPECT_EQ(p.kind, PteKind::None) << i;
      EXPECT_EQ(sys.phys.refcount(head + i), 0u) << i;
      continue;
    }
    EXPECT_EQ(p.kind, PteKind::Present) << i;
    EXPECT_FALSE(p.pmd) << i;
    EXPECT_TRUE(p.write) << i;
    EXPECT_EQ(p.pfn, head + i) << i;
    EXPECT_EQ(sys.phys.refcount(head + i), 1u) << i;
    EXPECT_EQ(tag_of(mm, kBase + i * P), 1000 + i) << i;
  }
  EXPECT_EQ(sys.phys.free_frames(), f0 + 128);
}

// §7: a THP split (partial munmap) raises CLEAR over the whole 2 MiB block
// before the UNMAP of the range, so mirrors drop the surviving part too.
TEST_F(MmOpsMunmap, PartialThpUnmapRaisesClearOverTheBlock) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
  ASSERT_EQ(tag(mm, kBase, 1), Status::Ok);
  ASSERT_TRUE(mm.pte(kBase).pmd);
  w.ev.clear();
  ASSERT_EQ(mm.munmap(kBase + 128 * P, 128 * P), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::Clear, nullptr},
                       {kBase + 128 * P, kBase + 256 * P, NotifyEvent::Unmap, nullptr}}));
}

TEST_F(MmOpsMunmap, HugetlbPartialIsInval) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Ok);
  ASSERT_EQ(tag(mm, kBase, 7), Status::Ok);
  ASSERT_EQ(mm.entries(kBase, kBase + M2).size(), kHugePages);
  EXPECT_EQ(mm.munmap(kBase, P), Status::Inval);
  EXPECT_EQ(mm.munmap(kBase + P, M2), Status::Inval);
  EXPECT_EQ(mm.munmap(kBase + M2 - P, 2 * P), Status::Inval);
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 2 * M2, kRW}}));
  EXPECT_EQ(mm.entries(kBase, kBase + M2).size(), kHugePages);
  EXPECT_EQ(tag_of(mm, kBase), 7u);
  // Whole huge pages are fine.
  ASSERT_EQ(mm.munmap(kBase, M2), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::Unmap, nullptr}}));
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase + M2, kBase + 2 * M2, kRW}}));
  EXPECT_TRUE(mm.entries(kBase, kBase + M2).empty());
}

// Linux's do_vmi_munmap() returns early when no VMA intersects the range: no
// notifier call (mirrors would otherwise lose the page after it, §1.3).
TEST_F(MmOpsMunmap, UnmappedRangeRaisesNothing) {
  ASSERT_EQ(mm.mmap_fixed(kBase + P, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.munmap(kBase, P), Status::Ok);
  EXPECT_TRUE(w.ev.empty());
}

// ---- mprotect -----------------------------------------------------------------

TEST_F(MmOpsMprotect, ReadOnlyDropsWriteFromEveryEntryIncludingDevicePrivate) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  for (uint32_t i = 0; i < 3; ++i) ASSERT_EQ(fill(mm, kBase + i * P, i), Status::Ok);
  ASSERT_EQ(dev.migrate(mm, kBase + 2 * P, kBase + 3 * P), 1u);
  const Pte d = mm.pte(kBase + 2 * P);
  ASSERT_EQ(d.kind, PteKind::DevicePrivate);
  ASSERT_TRUE(d.write);
  w.ev.clear();

  ASSERT_EQ(mm.mprotect(kBase, 4 * P, kProtRead), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + 4 * P, NotifyEvent::ProtectionVma, nullptr}}));
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 4 * P, kProtRead}}));
  for (uint32_t i = 0; i < 2; ++i) {
    EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::Present);
    EXPECT_FALSE(mm.pte(kBase + i * P).write);
  }
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::DevicePrivate);
  EXPECT_FALSE(mm.pte(kBase + 2 * P).write);
  EXPECT_EQ(mm.pte(kBase + 2 * P).pfn, d.pfn);
  EXPECT_EQ(mm.pte(kBase + 3 * P).kind, PteKind::None);

  uint8_t b = 1;
  EXPECT_EQ(mm.cpu_write(kBase, &b, 1), Status::Perm);
  // The read variant of the device entry comes back read-only.
  EXPECT_EQ(peek(mm, kBase + 2 * P), page_pattern(2));
  EXPECT_EQ(dev.to_ram.size(), 1u);
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::Present);
  EXPECT_FALSE(mm.pte(kBase + 2 * P).write);
  EXPECT_EQ(dev.freed.size(), 1u);
}

TEST_F(MmOpsMprotect, ProtNoneMakesReadsFaultAndSplitsTheVma) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(fill(mm, kBase + i * P, i), Status::Ok);
  const Pfn p1 = mm.pte(kBase + P).pfn;
  w.ev.clear();

  ASSERT_EQ(mm.mprotect(kBase + P, 2 * P, kProtNone), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase + P, kBase + 3 * P, NotifyEvent::ProtectionVma, nullptr}}));
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + P, kRW},
                                          {kBase + P, kBase + 3 * P, kProtNone},
                                          {kBase + 3 * P, kBase + 4 * P, kRW}}));
  uint8_t b = 0;
  EXPECT_EQ(mm.cpu_read(kBase + P, &b, 1), Status::Fault);
  EXPECT_EQ(mm.cpu_read(kBase + 2 * P, &b, 1), Status::Fault);
  EXPECT_TRUE(mm.pte(kBase).write);  // outside the range
  EXPECT_TRUE(mm.pte(kBase + 3 * P).write);
  EXPECT_FALSE(mm.pte(kBase + P).write);
  EXPECT_EQ(mm.pte(kBase + P).pfn, p1);  // the page itself stays

  // Back to RW: the sole-owner page is reused on write, no copy.
  ASSERT_EQ(mm.mprotect(kBase + P, 2 * P, kRW), Status::Ok);
  EXPECT_EQ(peek(mm, kBase + P), page_pattern(1));
  ASSERT_EQ(fill(mm, kBase + P, 9), Status::Ok);
  EXPECT_EQ(mm.pte(kBase + P).pfn, p1);
  EXPECT_EQ(mm.s_cow_copies, 0u);
}

TEST_F(MmOpsMprotect, RangeWithAHoleIsNoMemAndChangesNothing) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 3 * P, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  w.ev.clear();
  EXPECT_EQ(mm.mprotect(kBase, 4 * P, kProtRead), Status::NoMem);
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 2 * P, kRW}, {kBase + 3 * P, kBase + 4 * P, kRW}}));
  EXPECT_TRUE(mm.pte(kBase).write);
}

// ---- mremap -------------------------------------------------------------------

TEST_F(MmOpsMremap, ShrinkUnmapsTheTail) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(fill(mm, kBase + i * P, i), Status::Ok);
  const Pfn p3 = mm.pte(kBase + 3 * P).pfn;
  w.ev.clear();
  uint64_t na = 0;
  ASSERT_EQ(mm.mremap(kBase, 4 * P, 2 * P, MremapFlags{}, &na), Status::Ok);
  EXPECT_EQ(na, kBase);
  EXPECT_EQ(w.ev, (Evs{{kBase + 2 * P, kBase + 4 * P, NotifyEvent::Unmap, nullptr}}));
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 2 * P, kRW}}));
  EXPECT_EQ(mapped(mm, kBase, kBase + 4 * P), (std::vector<uint64_t>{kBase, kBase + P}));
  EXPECT_EQ(sys.phys.refcount(p3), 0u);
  EXPECT_EQ(peek(mm, kBase + P), page_pattern(1));
}

TEST_F(MmOpsMremap, GrowsInPlaceWhenTheTailIsFree) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  const Pfn p0 = mm.pte(kBase).pfn;
  uint64_t na = 0;
  ASSERT_EQ(mm.mremap(kBase, 2 * P, 4 * P, MremapFlags{}, &na), Status::Ok);
  EXPECT_EQ(na, kBase);
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 4 * P, kRW}}));
  EXPECT_EQ(mm.pte(kBase).pfn, p0);
  EXPECT_EQ(peek(mm, kBase + 3 * P), kZeroPage);

  // Blocked tail: without MAYMOVE it cannot grow.
  ASSERT_EQ(mm.mmap_fixed(kBase + 4 * P, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  w.ev.clear();
  EXPECT_EQ(mm.mremap(kBase, 4 * P, 6 * P, MremapFlags{}, &na), Status::NoMem);
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 4 * P, kRW}, {kBase + 4 * P, kBase + 5 * P, kRW}}));
}

TEST_F(MmOpsMremap, MayMoveMovesDataAndPtes) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 2 * P, P, kProtRead, VmaKind::AnonPrivate), Status::Ok);  // blocks growth
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + P, 2), Status::Ok);
  const Pfn p0 = mm.pte(kBase).pfn, p1 = mm.pte(kBase + P).pfn;
  w.ev.clear();

  MremapFlags f;
  f.maymove = true;
  uint64_t na = 0;
  ASSERT_EQ(mm.mremap(kBase, 2 * P, 4 * P, f, &na), Status::Ok);
  EXPECT_EQ(na, kBase + M2);  // the first free 2 MiB-aligned address after the old range
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + 2 * P, NotifyEvent::Unmap, nullptr}}));
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase + 2 * P, kBase + 3 * P, kProtRead}, {na, na + 4 * P, kRW}}));
  EXPECT_TRUE(mm.entries(kBase, kBase + 2 * P).empty());
  EXPECT_EQ(mm.pte(na).pfn, p0);
  EXPECT_EQ(mm.pte(na + P).pfn, p1);
  EXPECT_TRUE(mm.pte(na).write);
  EXPECT_TRUE(mm.pte(na).dirty);
  EXPECT_EQ(sys.phys.refcount(p0), 1u);
  EXPECT_EQ(sys.rmap.mappings(p0), (std::vector<Rmap::Mapping>{{&mm, na}}));
  EXPECT_EQ(peek(mm, na), page_pattern(1));
  EXPECT_EQ(peek(mm, na + P), page_pattern(2));
  EXPECT_EQ(peek(mm, na + 2 * P), kZeroPage);
}

TEST_F(MmOpsMremap, PmdKeptOnlyWhenThe2MiBOffsetIsPreserved) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + M2, P, kProtRead, VmaKind::AnonPrivate), Status::Ok);  // blocks growth
  ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
  ASSERT_EQ(tag(mm, kBase, 0), Status::Ok);
  const Pfn head = mm.pte(kBase).pfn;
  for (uint64_t i = 0; i < kHugePages; i += 73) ASSERT_EQ(tag(mm, kBase + i * P, 500 + i), Status::Ok);
  w.ev.clear();

  // Grow with MAYMOVE: the destination is 2 MiB aligned, like the source.
  MremapFlags f;
  f.maymove = true;
  uint64_t a = 0;
  ASSERT_EQ(mm.mremap(kBase, M2, 2 * M2, f, &a), Status::Ok);
  EXPECT_EQ(a, kBase + 2 * M2);
  EXPECT_EQ(mm.find_vma(a)->end, a + 2 * M2);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::Unmap, nullptr}}));
  ASSERT_EQ(mm.entries(a, a + M2).size(), kHugePages);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(a + i * P);
    EXPECT_TRUE(p.pmd) << i;
    EXPECT_EQ(p.pfn, head + i) << i;
  }
  EXPECT_TRUE(mm.find_vma(a)->thp);

  // Fixed move to an address with a different 2 MiB offset: 4 KiB PTEs.
  const uint64_t d = kBase + 8 * M2 + P;
  uint64_t nd = d;
  f.fixed = true;
  w.ev.clear();
  ASSERT_EQ(mm.mremap(a, M2, M2, f, &nd), Status::Ok);
  EXPECT_EQ(nd, d);
  EXPECT_EQ(w.of(NotifyEvent::Unmap).back(), (Ev{a, a + M2, NotifyEvent::Unmap, nullptr}));
  ASSERT_EQ(mm.entries(d, d + M2).size(), kHugePages);
  EXPECT_TRUE(mm.entries(a, a + M2).empty());
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(d + i * P);
    EXPECT_FALSE(p.pmd) << i;
    EXPECT_EQ(p.pfn, head + i) << i;
  }
  for (uint64_t i = 0; i < kHugePages; i += 73) EXPECT_EQ(tag_of(mm, d + i * P), 500 + i) << i;
}

TEST_F(MmOpsMremap, FixedReplacesTheTargetMapping) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const uint64_t t = kBase + 16 * P;
  ASSERT_EQ(mm.mmap_fixed(t, 4 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, t + P, 2), Status::Ok);
  const Pfn src = mm.pte(kBase).pfn, victim = mm.pte(t + P).pfn;
  w.ev.clear();

  MremapFlags f;
  f.maymove = true;
  f.fixed = true;
  uint64_t na = t + P;
  ASSERT_EQ(mm.mremap(kBase, 2 * P, 2 * P, f, &na), Status::Ok);
  EXPECT_EQ(na, t + P);
  EXPECT_EQ(w.ev, (Evs{{t + P, t + 3 * P, NotifyEvent::Unmap, nullptr},
                       {kBase, kBase + 2 * P, NotifyEvent::Unmap, nullptr}}));
  EXPECT_EQ(spans(mm), (std::vector<Span>{{t, t + P, kRW}, {t + P, t + 3 * P, kRW}, {t + 3 * P, t + 4 * P, kRW}}));
  EXPECT_EQ(sys.phys.refcount(victim), 0u);
  EXPECT_EQ(mm.pte(t + P).pfn, src);
  EXPECT_EQ(peek(mm, t + P), page_pattern(1));
  EXPECT_EQ(peek(mm, t + 2 * P), kZeroPage);
  EXPECT_EQ(mm.find_vma(kBase), nullptr);
}

TEST_F(MmOpsMremap, DontUnmapLeavesTheOldVmaEmpty) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + P, 2), Status::Ok);
  const Pfn p0 = mm.pte(kBase).pfn;
  w.ev.clear();

  MremapFlags f;
  f.maymove = true;
  f.dontunmap = true;
  uint64_t na = 0;
  ASSERT_EQ(mm.mremap(kBase, 2 * P, 2 * P, f, &na), Status::Ok);
  EXPECT_EQ(na, kBase + M2);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + 2 * P, NotifyEvent::Unmap, nullptr}}));
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 2 * P, kRW}, {na, na + 2 * P, kRW}}));
  EXPECT_TRUE(mm.entries(kBase, kBase + 2 * P).empty());
  EXPECT_EQ(mm.pte(na).pfn, p0);
  EXPECT_EQ(sys.phys.refcount(p0), 1u);
  EXPECT_EQ(peek(mm, na), page_pattern(1));
  EXPECT_EQ(peek(mm, na + P), page_pattern(2));
  EXPECT_EQ(peek(mm, kBase), kZeroPage);
  EXPECT_EQ(mm.pte(kBase).pfn, sys.phys.zero_pfn());
}

TEST_F(MmOpsMremap, InvalidArgumentsChangeNothing) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 16 * P, 2 * P, kRW, VmaKind::AnonShared), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + M2, M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  const auto before = spans(mm);
  w.ev.clear();
  uint64_t na = kBase + 64 * P;
  MremapFlags fixed_only;
  fixed_only.fixed = true;
  EXPECT_EQ(mm.mremap(kBase, 2 * P, 2 * P, fixed_only, &na), Status::Inval);
  MremapFlags dontunmap_only;
  dontunmap_only.dontunmap = true;
  EXPECT_EQ(mm.mremap(kBase, 2 * P, 2 * P, dontunmap_only, &na), Status::Inval);
  MremapFlags dontunmap;
  dontunmap.maymove = true;
  dontunmap.dontunmap = true;
  EXPECT_EQ(mm.mremap(kBase, 2 * P, 4 * P, dontunmap, &na), Status::Inval);         // size change
  EXPECT_EQ(mm.mremap(kBase + 16 * P, 2 * P, 2 * P, dontunmap, &na), Status::Inval);  // not private anon
  MremapFlags maymove;
  maymove.maymove = true;
  EXPECT_EQ(mm.mremap(kBase + M2, M2, M2, maymove, &na), Status::Inval);  // hugetlb
  EXPECT_EQ(mm.mremap(kBase + 1, P, P, maymove, &na), Status::Inval);
  EXPECT_EQ(mm.mremap(kBase, 2 * P, 0, maymove, &na), Status::Inval);
  MremapFlags fixed;
  fixed.maymove = true;
  fixed.fixed = true;
  uint64_t overlap = kBase + P;
  EXPECT_EQ(mm.mremap(kBase, 2 * P, 2 * P, fixed, &overlap), Status::Inval);
  uint64_t unaligned = kBase + 64 * P + 1;
  EXPECT_EQ(mm.mremap(kBase, 2 * P, 2 * P, fixed, &unaligned), Status::Inval);
  EXPECT_EQ(mm.mremap(kBase + 8 * P, P, P, maymove, &na), Status::Fault);  // no VMA
  EXPECT_EQ(mm.mremap(kBase, 3 * P, 3 * P, maymove, &na), Status::Fault);  // beyond the VMA
  EXPECT_TRUE(w.ev.empty());
  EXPECT_EQ(spans(mm), before);
  EXPECT_EQ(peek(mm, kBase), page_pattern(1));
}

// ---- madvise ------------------------------------------------------------------

TEST_F(MmOpsMadvise, HugepageSplitsVmasAndEnablesThpFaults) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 3 * M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase + M2, M2, Advice::Hugepage), Status::Ok);
  std::vector<std::tuple<uint64_t, uint64_t, bool>> got;
  for (const auto& [s, v] : mm.vmas()) got.emplace_back(v.start, v.end, v.thp);
  EXPECT_EQ(got, (std::vector<std::tuple<uint64_t, uint64_t, bool>>{
                     {kBase, kBase + M2, false}, {kBase + M2, kBase + 2 * M2, true}, {kBase + 2 * M2, kBase + 3 * M2, false}}));

  ASSERT_EQ(tag(mm, kBase + M2 + 5 * P, 42), Status::Ok);
  EXPECT_EQ(mm.s_thp_faults, 1u);
  const auto ents = mm.entries(kBase + M2, kBase + 2 * M2);
  ASSERT_EQ(ents.size(), kHugePages);
  const Pfn head = ents[0].second.pfn;
  EXPECT_EQ(head % kHugePages, 0u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte& p = ents[i].second;
    EXPECT_EQ(ents[i].first, kBase + M2 + i * P);
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_TRUE(p.pmd && p.write && p.dirty && p.anon) << i;
    EXPECT_EQ(p.pfn, head + i);
    EXPECT_EQ(sys.phys.refcount(head + i), 1u);
  }
  EXPECT_EQ(tag_of(mm, kBase + M2 + 5 * P), 42u);

  // Outside the advised VMA: 4 KiB pages.
  ASSERT_EQ(tag(mm, kBase, 1), Status::Ok);
  EXPECT_EQ(mm.entries(kBase, kBase + M2).size(), 1u);
  EXPECT_FALSE(mm.pte(kBase).pmd);
  EXPECT_EQ(mm.s_thp_faults, 1u);
  EXPECT_TRUE(w.ev.empty());
}

TEST_F(MmOpsMadvise, ReadFaultMapsTheHugeZeroPage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
  const uint64_t f0 = sys.phys.free_frames();
  EXPECT_EQ(peek(mm, kBase + 7 * P), kZeroPage);
  const auto ents = mm.entries(kBase, kBase + M2);
  ASSERT_EQ(ents.size(), kHugePages);
  for (const auto& [va, p] : ents) {
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_TRUE(p.pmd);
    EXPECT_FALSE(p.write);
    EXPECT_FALSE(p.anon);
    EXPECT_EQ(p.pfn, sys.phys.zero_pfn());
  }
  EXPECT_EQ(mm.s_zero_page_maps, 1u);
  EXPECT_EQ(mm.s_thp_faults, 0u);
  EXPECT_EQ(sys.phys.free_frames(), f0);
  EXPECT_TRUE(w.ev.empty());
}

TEST_F(MmOpsMadvise, WriteToHugeZeroPageSplitsAndCopiesOnePage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
  ASSERT_EQ(peek(mm, kBase), kZeroPage);
  const uint64_t f0 = sys.phys.free_frames();
  ASSERT_EQ(fill(mm, kBase + 7 * P, 3), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::Clear, nullptr},
                       {kBase + 7 * P, kBase + 8 * P, NotifyEvent::Clear, nullptr}}));
  EXPECT_EQ(mm.s_thp_splits, 1u);
  EXPECT_EQ(mm.s_cow_copies, 1u);
  EXPECT_EQ(mm.s_thp_faults, 0u);
  EXPECT_EQ(sys.phys.free_frames(), f0 - 1);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_EQ(p.kind, PteKind::Present) << i;
    EXPECT_FALSE(p.pmd) << i;
    if (i == 7) {
      EXPECT_TRUE(p.write && p.anon && p.dirty);
      EXPECT_NE(p.pfn, sys.phys.zero_pfn());
    } else {
      EXPECT_FALSE(p.write) << i;
      EXPECT_EQ(p.pfn, sys.phys.zero_pfn()) << i;
    }
  }
  EXPECT_EQ(peek(mm, kBase + 7 * P), page_pattern(3));
  EXPECT_EQ(peek(mm, kBase + 8 * P), kZeroPage);
}

TEST_F(MmOpsMadvise, DontNeedFreesHostAndDevicePages) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const uint64_t f0 = sys.phys.free_frames();
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(fill(mm, kBase + i * P, i), Status::Ok);
  ASSERT_EQ(dev.migrate(mm, kBase + 3 * P, kBase + 4 * P), 1u);
  std::vector<Pfn> pfns;
  for (uint32_t i = 0; i < 3; ++i) pfns.push_back(mm.pte(kBase + i * P).pfn);
  const Pfn dp = mm.pte(kBase + 3 * P).pfn;
  ASSERT_EQ(sys.pagemaps.refcount(dp), 1u);
  EXPECT_EQ(sys.phys.free_frames(), f0 - 3);
  w.ev.clear();

  ASSERT_EQ(mm.madvise(kBase, 4 * P, Advice::DontNeed), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + 4 * P, NotifyEvent::Clear, nullptr}}));
  EXPECT_TRUE(mm.entries(kBase, kBase + 4 * P).empty());
  EXPECT_EQ(sys.phys.free_frames(), f0);
  for (Pfn p : pfns) EXPECT_EQ(sys.phys.refcount(p), 0u);
  EXPECT_EQ(sys.pagemaps.refcount(dp), 0u);
  EXPECT_EQ(dev.freed.size(), 1u);
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 4 * P, kRW}}));
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(peek(mm, kBase + i * P), kZeroPage) << i;
  EXPECT_EQ(dev.to_ram.size(), 0u);
}

TEST_F(MmOpsMadvise, FreeThenReclaimDiscardsOnlyCleanPages) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(fill(mm, kBase + i * P, i), Status::Ok);
  std::vector<Pfn> pfns;
  for (uint32_t i = 0; i < 4; ++i) pfns.push_back(mm.pte(kBase + i * P).pfn);
  w.ev.clear();

  ASSERT_EQ(mm.madvise(kBase, 4 * P, Advice::Free), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + 4 * P, NotifyEvent::Clear, nullptr}}));
  for (uint32_t i = 0; i < 4; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_EQ(p.pfn, pfns[i]);
    EXPECT_FALSE(p.dirty);
    EXPECT_TRUE(p.lazyfree);
  }
  // A CPU store and a device write (mark_dirty) both keep their page.
  ASSERT_EQ(fill(mm, kBase + P, 9), Status::Ok);
  EXPECT_TRUE(mm.pte(kBase + P).dirty);
  EXPECT_FALSE(mm.pte(kBase + P).lazyfree);
  mm.mark_dirty(kBase + 2 * P, kBase + 3 * P);
  EXPECT_TRUE(mm.pte(kBase + 2 * P).dirty);
  EXPECT_FALSE(mm.pte(kBase + 2 * P).lazyfree);
  const uint64_t f0 = sys.phys.free_frames();
  w.ev.clear();

  EXPECT_EQ(mm.reclaim(), 2u);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + P, NotifyEvent::Clear, nullptr},
                       {kBase + 3 * P, kBase + 4 * P, NotifyEvent::Clear, nullptr}}));
  EXPECT_EQ(mm.s_reclaimed, 2u);
  EXPECT_EQ(sys.phys.free_frames(), f0 + 2);
  EXPECT_EQ(sys.phys.refcount(pfns[0]), 0u);
  EXPECT_EQ(sys.phys.refcount(pfns[3]), 0u);
  EXPECT_EQ(mapped(mm, kBase, kBase + 4 * P), (std::vector<uint64_t>{kBase + P, kBase + 2 * P}));
  EXPECT_EQ(peek(mm, kBase + P), page_pattern(9));
  EXPECT_EQ(peek(mm, kBase + 2 * P), page_pattern(2));
  EXPECT_EQ(peek(mm, kBase), kZeroPage);
  EXPECT_EQ(peek(mm, kBase + 3 * P), kZeroPage);
  EXPECT_EQ(mm.reclaim(), 0u);
}
