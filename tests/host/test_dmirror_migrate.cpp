// The test driver's MIGRATE_TO_DEV and MIGRATE_TO_SYS commands against the
// Linux semantics of the HMM test spec (split from test_dmirror.cpp).
#include "dmirror_fixture.h"

// ---- MIGRATE_TO_DEV / MIGRATE_TO_SYS (§1.7, §1.8) -------------------------------

TEST_F(DmirrorMigrate, ToDeviceAndBack) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 6);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  const uint64_t f0 = sys.phys.free_frames();
  DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_EQ(r.faults, 0u);
  EXPECT_TRUE(same(buf, data));
  EXPECT_EQ(sys.phys.free_frames(), f0);  // each old page freed, each backing page allocated
  EXPECT_EQ(dev.pages_in_use(), 4u);
  EXPECT_EQ(dev.s_chunks, 1u);
  for (uint64_t i = 0; i < 4; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_EQ(p.kind, PteKind::DevicePrivate);
    EXPECT_TRUE(p.write);
    EXPECT_FALSE(p.pmd);
    EXPECT_TRUE(dev.owns(p.pfn));
    EXPECT_EQ(dev.page_owner(p.pfn), fd.get());
    EXPECT_EQ(sys.pagemaps.refcount(p.pfn), 1u);
    const Dmirror::Entry* e = entry(*fd, kBase + i * P);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->page, dev.backing(p.pfn));  // the backing page, never the device pfn
    EXPECT_EQ(e->tag, Dmirror::kTagWrite);
  }

  r = run(DmirrorCmd::MigrateToSys, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_EQ(r.faults, 0u);
  EXPECT_TRUE(fd->page_table().empty());  // the driver erased its own entries
  EXPECT_EQ(dev.pages_in_use(), 0u);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::Present);
    EXPECT_TRUE(mm.pte(kBase + i * P).write);
  }
  EXPECT_TRUE(same(cpu(mm, kBase, 4), data));
  EXPECT_EQ(dev.s_migrate_to_ram, 0u);

  r = run(DmirrorCmd::MigrateToSys, kBase, 4);  // nothing on the device
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 0u);
}

TEST_F(DmirrorMigrate, HoleInRwVmaGetsAReadOnlyDeviceEntry) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  buf.assign(2 * P, 0xFF);
  const DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, 2);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 2u);
  EXPECT_TRUE(same(buf, zeros(2)));
  for (uint64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::DevicePrivate);
    EXPECT_TRUE(mm.pte(kBase + i * P).write);                 // CPU side follows VM_WRITE
    EXPECT_EQ(entry(*fd, kBase + i * P)->tag, Dmirror::kTagRead);  // device side follows src (none)
  }
}

TEST_F(DmirrorMigrate, ErrorCases) {
  auto f = std::make_shared<MemFile>(sys.phys, "file");
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtNone, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 16 * P, 2 * P, kRW, VmaKind::AnonShared), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 32 * P, 2 * P, kRW, VmaKind::FilePrivate, f, 0), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 64 * P, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + M2, M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Ok);
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 1).status, Status::Inval);           // no VM_READ
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase + P, 1).status, Status::Inval);       // no VMA
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase + M2, 512).status, Status::Inval);    // hugetlb
  EXPECT_EQ(run(DmirrorCmd::MigrateToSys, kBase, 1).status, Status::Inval);
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase + 16 * P, 2).status, Status::NoEnt);  // shmem holes stay
  ASSERT_EQ(fill(mm, kBase + 16 * P, pat(1, 1)), Status::Ok);
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase + 16 * P, 1).status, Status::NoEnt);  // page cache stays
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase + 32 * P, 1).status, Status::NoEnt);  // file hole
  // A COW-broken page of a private file mapping is anonymous: it migrates.
  ASSERT_EQ(fill(mm, kBase + 33 * P, pat(1, 2)), Status::Ok);
  DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase + 33 * P, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 1u);
  EXPECT_TRUE(same(buf, pat(1, 2)));
  // Running off the VMA: the first chunk stays migrated.
  ASSERT_EQ(fill(mm, kBase + 64 * P, pat(2, 3)), Status::Ok);
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase + 64 * P, 3).status, Status::Inval);
  EXPECT_EQ(mm.pte(kBase + 64 * P).kind, PteKind::DevicePrivate);
  EXPECT_EQ(mm.pte(kBase + 65 * P).kind, PteKind::DevicePrivate);
  EXPECT_EQ(mm.pte(kBase + 16 * P).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase + 17 * P).kind, PteKind::None);
}

TEST_F(DmirrorMigrate, PagesLeftOnTheDeviceStillCount) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 7);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 4).status, Status::Ok);
  EXPECT_TRUE(same(cpu(mm, kBase, 2), slice(data, 0, 2)));  // faults two pages back
  EXPECT_EQ(dev.s_migrate_to_ram, 2u);
  EXPECT_EQ(mm.pte(kBase + P).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::DevicePrivate);
  EXPECT_EQ(keys(*fd), (std::vector<uint64_t>{kBase + 2 * P, kBase + 3 * P}));
  const DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_TRUE(same(buf, data));
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::DevicePrivate);
  EXPECT_EQ(dev.pages_in_use(), 4u);
}

TEST_F(DmirrorMigrate, ThpMovesAsOneDeviceFolioAndComesBackWhole) {
  const auto data = pat(kHugePages, 8);
  thp_region(data);
  const Pfn head = mm.pte(kBase).pfn;
  const DmirrorResult r = run(DmirrorCmd::MigrateToDev, kBase, kHugePages);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, kHugePages);
  EXPECT_TRUE(same(buf, data));
  EXPECT_EQ(dev.s_chunks, 2u);  // the first chunk has no folios
  const Pfn dhead = mm.pte(kBase).pfn;
  EXPECT_EQ(dhead % kHugePages, 0u);
  EXPECT_EQ(dev.order(dhead), 9u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_EQ(p.kind, PteKind::DevicePrivate);
    EXPECT_TRUE(p.pmd && p.write) << i;
    EXPECT_EQ(p.pfn, dhead + i);
    EXPECT_EQ(sys.phys.refcount(head + i), 0u);
    const Dmirror::Entry* e = entry(*fd, kBase + i * P);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->page, dev.backing(dhead) + i);
    EXPECT_EQ(e->tag, Dmirror::kTagWrite);
  }
  // One CPU touch brings the whole folio back as a THP.
  uint32_t word = 0;
  ASSERT_EQ(mm.cpu_read(kBase + 2 * P, &word, 4), Status::Ok);
  EXPECT_EQ(word, 8u * 0x100000u + 2048u);
  EXPECT_EQ(dev.s_migrate_to_ram, 1u);
  EXPECT_EQ(dev.pages_in_use(), 0u);
  const Pfn nhead = mm.pte(kBase).pfn;
  EXPECT_EQ(nhead % kHugePages, 0u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_TRUE(p.pmd && p.write) << i;
    EXPECT_EQ(p.pfn, nhead + i);
  }
  EXPECT_TRUE(fd->page_table().empty());
  EXPECT_TRUE(same(cpu(mm, kBase, kHugePages), data));
  // The whole folio is free again.
  const Pfn again = dev.alloc_page(true, nullptr);
  EXPECT_EQ(again, dhead);
  for (uint64_t k = 0; k < kHugePages; ++k) sys.pagemaps.put(again + k);
}

TEST_F(DmirrorMigrate, PartialUnmapOfADeviceThpThenCpuReadsTheRest) {
  const auto data = pat(kHugePages, 9);
  thp_region(data);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, kHugePages).status, Status::Ok);
  const Pfn dhead = mm.pte(kBase).pfn;
  ASSERT_EQ(dev.order(dhead), 9u);
  ASSERT_EQ(mm.munmap(kBase + 128 * P, 256 * P), Status::Ok);
  EXPECT_EQ(dev.pages_in_use(), 256u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    if (i >= 128 && i < 384) {
      EXPECT_EQ(p.kind, PteKind::None) << i;
      continue;
    }
    EXPECT_EQ(p.kind, PteKind::DevicePrivate) << i;
    EXPECT_FALSE(p.pmd) << i;
    EXPECT_EQ(p.pfn, dhead + i) << i;
  }
  // PTE-mapped subpages of the folio come back one at a time.
  EXPECT_TRUE(same(cpu(mm, kBase, 128), slice(data, 0, 128)));
  EXPECT_TRUE(same(cpu(mm, kBase + 384 * P, 128), slice(data, 384, 128)));
  EXPECT_EQ(dev.s_migrate_to_ram, 256u);
  EXPECT_EQ(dev.pages_in_use(), 0u);
  EXPECT_TRUE(fd->page_table().empty());
  EXPECT_FALSE(mm.pte(kBase).pmd);
  // All 512 subpages are free again: the folio is back on its list.
  const Pfn again = dev.alloc_page(true, nullptr);
  EXPECT_EQ(again, dhead);
  for (uint64_t k = 0; k < kHugePages; ++k) sys.pagemaps.put(again + k);
}

TEST_F(DmirrorMigrate, MremapOfADeviceThpKeepsThePmdOnlyWhenAligned) {
  const auto data = pat(kHugePages, 10);
  thp_region(data);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, kHugePages).status, Status::Ok);
  MremapFlags f;
  f.maymove = true;
  f.fixed = true;
  uint64_t a = kBase + 4 * M2;
  ASSERT_EQ(mm.mremap(kBase, M2, M2, f, &a), Status::Ok);
  EXPECT_TRUE(fd->page_table().empty());  // UNMAP of the old range
  for (uint64_t i = 0; i < kHugePages; ++i) {
    EXPECT_EQ(mm.pte(a + i * P).kind, PteKind::DevicePrivate);
    EXPECT_TRUE(mm.pte(a + i * P).pmd);
  }
  EXPECT_TRUE(same(cpu(mm, a, kHugePages), data));
  EXPECT_EQ(dev.s_migrate_to_ram, 1u);  // the folio came back whole
  EXPECT_TRUE(mm.pte(a).pmd);

  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, a, kHugePages).status, Status::Ok);
  ASSERT_TRUE(mm.pte(a).pmd);
  uint64_t d = kBase + 8 * M2 + 64 * P;  // a different 2 MiB offset
  ASSERT_EQ(mm.mremap(a, M2, M2, f, &d), Status::Ok);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    EXPECT_EQ(mm.pte(d + i * P).kind, PteKind::DevicePrivate);
    EXPECT_FALSE(mm.pte(d + i * P).pmd);
  }
  EXPECT_TRUE(same(cpu(mm, d, kHugePages), data));
  EXPECT_EQ(dev.s_migrate_to_ram, 1u + kHugePages);
  EXPECT_EQ(dev.pages_in_use(), 0u);
}
