// Test device (lib/test_hmm.c model): invalidation, FAIL_ALLOC, RELEASE and
// close, fork, and the ODP kind. Commands are in test_dmirror.cpp.
#include "dmirror_fixture.h"

// ---- invalidation (§1.3) ------------------------------------------------------

TEST_F(DmirrorInvalidate, EraseIncludesThePageAfterTheRange) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 1);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Read, kBase, 4).status, Status::Ok);
  const uint64_t inv = fd->s_invalidations;
  ASSERT_EQ(mm.madvise(kBase, P, Advice::DontNeed), Status::Ok);  // CLEAR [kBase, kBase + 4K)
  EXPECT_EQ(fd->s_invalidations, inv + 1);
  EXPECT_EQ(keys(*fd), (std::vector<uint64_t>{kBase + 2 * P, kBase + 3 * P}));
  DmirrorResult r = run(DmirrorCmd::Read, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_EQ(r.faults, 1u);
  std::vector<uint8_t> want = zeros(1);
  const auto rest = slice(data, 1, 3);
  want.insert(want.end(), rest.begin(), rest.end());
  EXPECT_TRUE(same(buf, want));
  ASSERT_EQ(mm.munmap(kBase + 2 * P, P), Status::Ok);  // UNMAP [2, 3) erases pages 2 and 3
  EXPECT_EQ(keys(*fd), (std::vector<uint64_t>{kBase, kBase + P}));
}

TEST_F(DmirrorInvalidate, OwnDeviceMigrateIgnoredOtherDeviceHonoured) {
  DmirrorDevice dev1(sys, spec("dmirror1"));
  auto fd1 = dev1.open(mm);
  auto fdB = dev.open(mm);  // a second fd on the same device
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 2);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Read, kBase, 4).status, Status::Ok);
  ASSERT_EQ(run(*fd1, DmirrorCmd::Read, kBase, 4).status, Status::Ok);
  const uint64_t inv = fd->s_invalidations, inv1 = fd1->s_invalidations;

  const DmirrorResult r = run(*fdB, DmirrorCmd::MigrateToDev, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  // MIGRATE with owner == dmirror0: every fd of dmirror0 ignores it (stale
  // entries stay); dmirror1's fd erases [start, end].
  EXPECT_EQ(fd->s_invalidations, inv);
  EXPECT_EQ(fd->page_table().size(), 4u);
  EXPECT_EQ(fd1->s_invalidations, inv1 + 1);
  EXPECT_TRUE(fd1->page_table().empty());
  EXPECT_EQ(fdB->page_table().size(), 4u);

  // dmirror1 reading faults the pages back from dmirror0 (double_map).
  const DmirrorResult r1 = run(*fd1, DmirrorCmd::Read, kBase, 4);
  EXPECT_EQ(r1.status, Status::Ok);
  EXPECT_EQ(r1.cpages, 4u);
  EXPECT_EQ(r1.faults, 1u);
  EXPECT_TRUE(same(buf, data));
  EXPECT_EQ(dev.s_migrate_to_ram, 4u);
  EXPECT_TRUE(fdB->page_table().empty());  // dmirror0's driver erased what it moved back
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::Present);
}

// ---- FLAGS / FAIL_ALLOC (§1.12) -----------------------------------------------

TEST_F(DmirrorFailAlloc, ToDeviceSmallPageStaysInSystemMemoryOnce) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(2, 3);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  const Pfn p0 = mm.pte(kBase).pfn;
  ASSERT_EQ(run(DmirrorCmd::Flags, kBase, kDmirrorFailAlloc).status, Status::Ok);
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 2).status, Status::NoEnt);
  EXPECT_EQ(fd->flags(), 0u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase).pfn, p0);
  EXPECT_EQ(mm.pte(kBase + P).kind, PteKind::DevicePrivate);
  EXPECT_EQ(dev.pages_in_use(), 1u);
  const DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, 2);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 2u);
  EXPECT_TRUE(same(buf, data));
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::DevicePrivate);
}

// §1.7: the failed page stays in system memory, but the read-back finds the
// entry of an earlier READ (the own-device MIGRATE event did not erase it).
TEST_F(DmirrorFailAlloc, OldEntrySatisfiesTheReadBack) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(1, 2)), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Read, kBase, 1).status, Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Flags, kBase, kDmirrorFailAlloc).status, Status::Ok);
  const DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 1u);
  EXPECT_TRUE(same(buf, pat(1, 2)));
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_EQ(dev.pages_in_use(), 0u);
  EXPECT_EQ(fd->flags(), 0u);
}

TEST_F(DmirrorFailAlloc, ToDeviceThpFallsBackTo512SmallPages) {
  const auto data = pat(kHugePages, 4);
  thp_region(data);
  const Pfn head = mm.pte(kBase).pfn;
  ASSERT_EQ(run(DmirrorCmd::Flags, kBase, kDmirrorFailAlloc).status, Status::Ok);
  const DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, kHugePages);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, kHugePages);
  EXPECT_TRUE(same(buf, data));
  EXPECT_EQ(fd->flags(), 0u);
  EXPECT_EQ(dev.s_chunks, 1u);  // no folio chunk was needed
  std::set<Pfn> pfns;
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_EQ(p.kind, PteKind::DevicePrivate);
    EXPECT_FALSE(p.pmd);
    EXPECT_TRUE(p.write);
    EXPECT_EQ(dev.order(p.pfn), 0u);
    EXPECT_EQ(sys.phys.refcount(head + i), 0u);
    pfns.insert(p.pfn);
  }
  EXPECT_EQ(pfns.size(), kHugePages);
  // A CPU touch brings back that single page only.
  EXPECT_TRUE(same(cpu(mm, kBase + 2 * P, 1), slice(data, 2, 1)));
  EXPECT_EQ(dev.s_migrate_to_ram, 1u);
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase + 3 * P).kind, PteKind::DevicePrivate);
  EXPECT_EQ(dev.pages_in_use(), kHugePages - 1);
}

TEST_F(DmirrorFailAlloc, ToSystemSmallPageIsNoMemOnce) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(2, 5);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 2).status, Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Flags, kBase, kDmirrorFailAlloc).status, Status::Ok);
  EXPECT_EQ(run(DmirrorCmd::MigrateToSys, kBase, 2).status, Status::NoMem);
  EXPECT_EQ(fd->flags(), 0u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::DevicePrivate);
  EXPECT_EQ(mm.pte(kBase + P).kind, PteKind::DevicePrivate);
  EXPECT_EQ(dev.pages_in_use(), 2u);
  const DmirrorResult r = run(DmirrorCmd::MigrateToSys, kBase, 2);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 2u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_TRUE(same(cpu(mm, kBase, 2), data));
}

TEST_F(DmirrorFailAlloc, ToSystemThpFallsBackToSmallPages) {
  const auto data = pat(kHugePages, 6);
  thp_region(data);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, kHugePages).status, Status::Ok);
  ASSERT_TRUE(mm.pte(kBase).pmd);
  ASSERT_EQ(mm.pte(kBase).kind, PteKind::DevicePrivate);
  ASSERT_EQ(run(DmirrorCmd::Flags, kBase, kDmirrorFailAlloc).status, Status::Ok);
  const DmirrorResult r = run(DmirrorCmd::MigrateToSys, kBase, kHugePages);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, kHugePages);
  EXPECT_EQ(fd->flags(), 0u);
  EXPECT_EQ(dev.pages_in_use(), 0u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_FALSE(p.pmd);
    EXPECT_TRUE(p.write);
  }
  EXPECT_TRUE(same(cpu(mm, kBase, kHugePages), data));
}

TEST_F(DmirrorFailAlloc, CpuFaultOnSmallDevicePageIsOomOnce) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(1, 7)), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 1).status, Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Flags, kBase, kDmirrorFailAlloc).status, Status::Ok);
  uint8_t b = 0;
  EXPECT_EQ(mm.cpu_read(kBase, &b, 1), Status::NoMem);
  EXPECT_EQ(fd->flags(), 0u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::DevicePrivate);
  EXPECT_TRUE(same(cpu(mm, kBase, 1), pat(1, 7)));
  EXPECT_EQ(dev.s_migrate_to_ram, 2u);
}

TEST_F(DmirrorFailAlloc, IsPerFd) {
  auto fdB = dev.open(mm);
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(1, 8)), Status::Ok);
  ASSERT_EQ(run(*fdB, DmirrorCmd::Flags, kBase, kDmirrorFailAlloc).status, Status::Ok);
  const DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 1u);
  EXPECT_EQ(fdB->flags(), kDmirrorFailAlloc);
  EXPECT_EQ(fd->flags(), 0u);
}

// ---- RELEASE and close (§1.11) ------------------------------------------------

TEST_F(DmirrorRelease, EvictsPagesOfBothProcessesAfterFork) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 1);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 4).status, Status::Ok);
  std::vector<Pfn> dp;
  for (uint64_t i = 0; i < 4; ++i) dp.push_back(mm.pte(kBase + i * P).pfn);
  auto child = mm.fork();
  EXPECT_TRUE(fd->page_table().empty());  // PROTECTION_PAGE
  EXPECT_EQ(sys.pagemaps.refcount(dp[0]), 2u);
  EXPECT_EQ(child->pte(kBase).kind, PteKind::DevicePrivate);
  EXPECT_FALSE(child->pte(kBase).write);
  EXPECT_FALSE(mm.pte(kBase).write);

  // A read of our own read-only device pages is not faulted: the device pfn
  // itself is stored (§1.4), and reads go through its backing page.
  DmirrorResult r = run(DmirrorCmd::Read, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_TRUE(same(buf, data));
  EXPECT_EQ(entry(*fd, kBase)->page, dp[0]);
  EXPECT_EQ(entry(*fd, kBase)->tag, Dmirror::kTagRead);
  EXPECT_EQ(dev.s_migrate_to_ram, 0u);

  r = run(DmirrorCmd::Release, kBase, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_TRUE(fd->page_table().empty());  // CLEAR from try_to_migrate
  EXPECT_EQ(dev.pages_in_use(), 0u);
  EXPECT_EQ(dev.s_evicted, 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    const Pte p = mm.pte(kBase + i * P), c = child->pte(kBase + i * P);
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_EQ(c.kind, PteKind::Present);
    EXPECT_EQ(p.pfn, c.pfn);
    EXPECT_FALSE(p.write || c.write);
    EXPECT_EQ(sys.phys.refcount(p.pfn), 2u);
    EXPECT_EQ(sys.pagemaps.refcount(dp[i]), 0u);
  }
  EXPECT_TRUE(same(cpu(mm, kBase, 4), data));
  EXPECT_TRUE(same(cpu(*child, kBase, 4), data));

  // The device has no memory left: the next migration makes a new chunk.
  ASSERT_EQ(mm.mmap_fixed(kBase + 16 * P, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + 16 * P, pat(1, 2)), Status::Ok);
  r = run(DmirrorCmd::MigrateToDev, kBase + 16 * P, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(dev.s_chunks, 2u);
  EXPECT_EQ(mm.pte(kBase + 16 * P).pfn, DevicePagemaps::kDeviceBase + 1024);
}

TEST_F(DmirrorRelease, EvictsPagesOfTwoMirrors) {
  AddressSpace mm2(sys);
  auto fd2 = dev.open(mm2);
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm2.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto d1 = pat(2, 1), d2 = pat(2, 2);
  ASSERT_EQ(fill(mm, kBase, d1), Status::Ok);
  ASSERT_EQ(fill(mm2, kBase, d2), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 2).status, Status::Ok);
  ASSERT_EQ(run(*fd2, DmirrorCmd::MigrateToDev, kBase, 2).status, Status::Ok);
  EXPECT_EQ(dev.pages_in_use(), 4u);
  EXPECT_EQ(dev.page_owner(mm2.pte(kBase).pfn), fd2.get());

  EXPECT_EQ(run(*fd2, DmirrorCmd::Release, kBase, 1).status, Status::Ok);
  EXPECT_EQ(dev.pages_in_use(), 0u);
  EXPECT_EQ(dev.s_evicted, 4u);
  EXPECT_TRUE(fd->page_table().empty());
  EXPECT_TRUE(fd2->page_table().empty());
  for (AddressSpace* a : {&mm, &mm2})
    for (uint64_t i = 0; i < 2; ++i) {
      EXPECT_EQ(a->pte(kBase + i * P).kind, PteKind::Present);
      EXPECT_TRUE(a->pte(kBase + i * P).write);
    }
  EXPECT_TRUE(same(cpu(mm, kBase, 2), d1));
  EXPECT_TRUE(same(cpu(mm2, kBase, 2), d2));
}

TEST_F(DmirrorClose, EvictsEveryPageOfTheDeviceAndKeepsTheChunks) {
  auto fdB = dev.open(mm);
  ASSERT_EQ(mm.mmap_fixed(kBase, 3 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(3, 4);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 2).status, Status::Ok);
  ASSERT_EQ(run(*fdB, DmirrorCmd::MigrateToDev, kBase + 2 * P, 1).status, Status::Ok);
  const Pfn d0 = mm.pte(kBase).pfn;
  EXPECT_EQ(dev.pages_in_use(), 3u);

  fdB.reset();  // closing any fd evicts every page of the device
  EXPECT_EQ(dev.pages_in_use(), 0u);
  EXPECT_EQ(dev.s_evicted, 3u);
  EXPECT_TRUE(fd->page_table().empty());
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::Present);
    EXPECT_TRUE(mm.pte(kBase + i * P).write);
  }
  EXPECT_TRUE(same(cpu(mm, kBase, 3), data));
  EXPECT_EQ(dev.s_chunks, 1u);

  // The chunk stays: its pages are handed out again.
  const DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, 3);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 3u);
  EXPECT_EQ(dev.s_chunks, 1u);
  EXPECT_TRUE(sys.pagemaps.find(mm.pte(kBase).pfn) == sys.pagemaps.find(d0));
}

// ---- fork (§5, §1.4) ----------------------------------------------------------

TEST_F(DmirrorFork, ChildMirrorOfASharedReadOnlyDevicePage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(2, 1);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 2).status, Status::Ok);
  auto child = mm.fork();
  auto cfd = dev.open(*child);

  // Own device page, read-only after fork: never faulted, so a device write
  // is EFAULT (the WARN in dmirror_do_fault).
  buf = pat(2, 7);
  EXPECT_EQ(run(*cfd, DmirrorCmd::Write, kBase, 2).status, Status::Fault);
  EXPECT_TRUE(cfd->page_table().empty());
  EXPECT_EQ(child->pte(kBase).kind, PteKind::DevicePrivate);

  // The child's CPU read brings each page back for both processes.
  EXPECT_TRUE(same(cpu(*child, kBase, 2), data));
  EXPECT_EQ(dev.s_migrate_to_ram, 2u);
  EXPECT_EQ(dev.pages_in_use(), 0u);
  for (uint64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::Present);
    EXPECT_EQ(mm.pte(kBase + i * P).pfn, child->pte(kBase + i * P).pfn);
    EXPECT_EQ(sys.phys.refcount(mm.pte(kBase + i * P).pfn), 2u);
  }
  // Now the device write copies on write in the child only.
  const auto cdata = pat(2, 7);
  buf = cdata;
  const DmirrorResult r = run(*cfd, DmirrorCmd::Write, kBase, 2);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 2u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_TRUE(same(cpu(*child, kBase, 2), cdata));
  EXPECT_TRUE(same(cpu(mm, kBase, 2), data));
}

TEST_F(DmirrorFork, DeviceThpIsSharedReadOnlyAndComesBackWholeForBoth) {
  const auto data = pat(kHugePages, 12);
  thp_region(data);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, kHugePages).status, Status::Ok);
  const Pfn dhead = mm.pte(kBase).pfn;
  auto child = mm.fork();
  for (AddressSpace* a : {&mm, child.get()})
    for (uint64_t i = 0; i < kHugePages; ++i) {
      const Pte p = a->pte(kBase + i * P);
      EXPECT_EQ(p.kind, PteKind::DevicePrivate);
      EXPECT_TRUE(p.pmd);
      EXPECT_FALSE(p.write);
      EXPECT_EQ(p.pfn, dhead + i);
    }
  EXPECT_EQ(sys.pagemaps.refcount(dhead + 7), 2u);
  EXPECT_TRUE(same(cpu(*child, kBase + 5 * P, 1), slice(data, 5, 1)));
  EXPECT_EQ(dev.s_migrate_to_ram, 1u);
  EXPECT_EQ(dev.pages_in_use(), 0u);
  const Pfn nhead = mm.pte(kBase).pfn;
  EXPECT_EQ(nhead % kHugePages, 0u);
  for (AddressSpace* a : {&mm, child.get()})
    for (uint64_t i = 0; i < kHugePages; ++i) {
      const Pte p = a->pte(kBase + i * P);
      EXPECT_EQ(p.kind, PteKind::Present);
      EXPECT_TRUE(p.pmd);
      EXPECT_FALSE(p.write);
      EXPECT_EQ(p.pfn, nhead + i);
    }
  EXPECT_EQ(sys.phys.refcount(nhead + 7), 2u);
  EXPECT_TRUE(same(cpu(mm, kBase, kHugePages), data));
  EXPECT_TRUE(same(cpu(*child, kBase, kHugePages), data));
}

// A device pfn stored through the §1.4 quirk must not outlive the device
// page: after the page migrated back and was freed, READ has to fault again
// instead of reading through a freed page.
TEST_F(DmirrorFork, StaleOwnDevicePageEntryIsRefaulted) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(1, 3)), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 1).status, Status::Ok);
  auto child = mm.fork();
  auto cfd = dev.open(*child);
  DmirrorResult r = run(*cfd, DmirrorCmd::Read, kBase, 1);
  ASSERT_EQ(r.status, Status::Ok);
  ASSERT_TRUE(DevicePagemaps::is_device(entry(*cfd, kBase)->page));
  ASSERT_TRUE(same(cpu(*child, kBase, 1), pat(1, 3)));  // migrates back; the device page is freed
  ASSERT_EQ(dev.pages_in_use(), 0u);
  r = run(*cfd, DmirrorCmd::Read, kBase, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_TRUE(same(buf, pat(1, 3)));
}

// ---- ODP kind (no device memory) -----------------------------------------------

TEST_F(DmirrorOdp, HasNoMemoryAndRejectsMigrationAndRelease) {
  DmirrorDevice odp(sys, spec("odp0", DmirrorKind::Odp));
  auto ofd = odp.open(mm);
  EXPECT_FALSE(odp.has_memory());
  EXPECT_EQ(odp.s_chunks, 0u);
  EXPECT_EQ(odp.alloc_page(false, nullptr), kNoPfn);
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(2, 1)), Status::Ok);
  EXPECT_EQ(run(*ofd, DmirrorCmd::MigrateToDev, kBase, 2).status, Status::Inval);
  EXPECT_EQ(run(*ofd, DmirrorCmd::MigrateToSys, kBase, 2).status, Status::Inval);
  EXPECT_EQ(run(*ofd, DmirrorCmd::Release, kBase, 1).status, Status::Inval);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_EQ(odp.s_chunks, 0u);
}

TEST_F(DmirrorOdp, ReadWriteSnapshotWorkAndFaultOtherDevicePagesBack) {
  DmirrorDevice odp(sys, spec("odp0", DmirrorKind::Odp));
  auto ofd = odp.open(mm);
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 2);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 4).status, Status::Ok);

  DmirrorResult r = run(*ofd, DmirrorCmd::Snapshot, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_EQ(buf, std::vector<uint8_t>(4, 0x00));  // another device's private pages: not faulted
  EXPECT_EQ(dev.s_migrate_to_ram, 0u);

  r = run(*ofd, DmirrorCmd::Read, kBase, 2);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 2u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_TRUE(same(buf, slice(data, 0, 2)));
  EXPECT_EQ(dev.s_migrate_to_ram, 2u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::DevicePrivate);

  const auto wdata = pat(2, 3);
  buf = wdata;
  r = run(*ofd, DmirrorCmd::Write, kBase + 2 * P, 2);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 2u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_EQ(dev.s_migrate_to_ram, 4u);
  EXPECT_EQ(dev.pages_in_use(), 0u);
  EXPECT_TRUE(same(cpu(mm, kBase + 2 * P, 2), wdata));
  EXPECT_TRUE(same(cpu(mm, kBase, 2), slice(data, 0, 2)));

  r = run(*ofd, DmirrorCmd::Snapshot, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(buf, std::vector<uint8_t>(4, 0x02));
  EXPECT_EQ(ofd->page_table().size(), 4u);
}
