// The dmirror test device (lib/test_hmm.c) against the HMM test spec: device
// memory chunks and free lists (§1.13), the ioctl front end (§1.2) and every
// command's status / cpages / faults (§1.5-§1.10; migration in test_dmirror_migrate.cpp). Invalidation, FAIL_ALLOC,
// RELEASE and close, fork and the ODP kind: test_dmirror_lifecycle.cpp.
#include "dmirror_fixture.h"

// ---- device memory (§1.13) ----------------------------------------------------

TEST(DmirrorDevMem, FirstChunkIsSmallPagesOnlyLargeRequestsAddChunks) {
  HostSystem sys(4096);
  DmirrorDevice dev(sys, spec("d", DmirrorKind::Private, 1024, 2));
  EXPECT_EQ(dev.s_chunks, 1u);
  const uint64_t f0 = sys.phys.free_frames();

  const Pfn p = dev.alloc_page(false, nullptr);
  EXPECT_EQ(p, DevicePagemaps::kDeviceBase);  // lowest pfn of the first chunk first
  EXPECT_TRUE(dev.owns(p));
  EXPECT_EQ(sys.pagemaps.find(p)->owner, dev.owner());
  EXPECT_EQ(dev.order(p), 0u);
  EXPECT_EQ(sys.pagemaps.refcount(p), 1u);
  const Pfn b = dev.backing(p);
  ASSERT_NE(b, kNoPfn);
  EXPECT_FALSE(DevicePagemaps::is_device(b));
  EXPECT_EQ(sys.phys.refcount(b), 1u);
  EXPECT_EQ(sys.phys.free_frames(), f0 - 1);
  EXPECT_EQ(dev.s_chunks, 1u);

  // The first chunk has no folios: a large request makes a chunk of folios.
  const Pfn h = dev.alloc_page(true, nullptr);
  EXPECT_EQ(dev.s_chunks, 2u);
  EXPECT_EQ(h, DevicePagemaps::kDeviceBase + 1024);
  const Pfn hb = dev.backing(h);
  EXPECT_EQ(hb % kHugePages, 0u);
  for (uint64_t k = 0; k < kHugePages; ++k) {
    EXPECT_EQ(dev.order(h + k), 9u);
    EXPECT_EQ(dev.backing(h + k), hb + k);
    EXPECT_EQ(sys.pagemaps.refcount(h + k), 1u);
    EXPECT_EQ(sys.phys.refcount(hb + k), 1u);
  }
  EXPECT_EQ(sys.phys.free_frames(), f0 - 1 - kHugePages);
  EXPECT_EQ(dev.alloc_page(true, nullptr), h + kHugePages);  // the chunk's second folio
  EXPECT_EQ(dev.pages_in_use(), 1 + 2 * kHugePages);

  // max_chunks = 2: no third chunk; the backing folio is given back.
  const uint64_t f1 = sys.phys.free_frames();
  EXPECT_EQ(dev.alloc_page(true, nullptr), kNoPfn);
  EXPECT_EQ(dev.s_chunks, 2u);
  EXPECT_EQ(sys.phys.free_frames(), f1);
  EXPECT_EQ(dev.s_allocs, 3u);
}

TEST(DmirrorDevMem, ChunkLimitAlsoEndsSmallPages) {
  HostSystem sys(2048);
  DmirrorDevice dev(sys, spec("d", DmirrorKind::Private, 512, 1));
  for (uint64_t i = 0; i < 512; ++i) ASSERT_EQ(dev.alloc_page(false, nullptr), DevicePagemaps::kDeviceBase + i);
  const uint64_t f0 = sys.phys.free_frames();
  EXPECT_EQ(dev.alloc_page(false, nullptr), kNoPfn);
  EXPECT_EQ(dev.alloc_page(true, nullptr), kNoPfn);
  EXPECT_EQ(dev.s_chunks, 1u);
  EXPECT_EQ(sys.phys.free_frames(), f0);
}

TEST(DmirrorDevMem, PageFreeReturnsPageAndBackingPage) {
  HostSystem sys(4096);
  DmirrorDevice dev(sys, spec("d", DmirrorKind::Private, 1024, 2));
  const Pfn p = dev.alloc_page(false, nullptr);
  const Pfn q = dev.alloc_page(false, nullptr);
  EXPECT_EQ(q, p + 1);
  const Pfn b = dev.backing(p);
  const uint64_t f0 = sys.phys.free_frames();
  sys.pagemaps.put(p);  // last reference: page_free
  EXPECT_EQ(dev.s_frees, 1u);
  EXPECT_EQ(sys.pagemaps.refcount(p), 0u);
  EXPECT_EQ(sys.phys.refcount(b), 0u);
  EXPECT_EQ(sys.phys.free_frames(), f0 + 1);
  EXPECT_EQ(dev.backing(p), kNoPfn);
  EXPECT_EQ(dev.pages_in_use(), 1u);
  // Back on the 4 KiB list, handed out first (LIFO), with a fresh backing page.
  EXPECT_EQ(dev.alloc_page(false, nullptr), p);
  EXPECT_NE(dev.backing(p), kNoPfn);
  EXPECT_EQ(dev.s_chunks, 1u);
}

TEST(DmirrorDevMem, FolioReturnsOnlyWhenAllSubpagesAreFree) {
  HostSystem sys(4096);
  DmirrorDevice dev(sys, spec("d", DmirrorKind::Private, 1024, 2));
  const Pfn h = dev.alloc_page(true, nullptr);
  const Pfn h2 = dev.alloc_page(true, nullptr);
  ASSERT_EQ(h2, h + kHugePages);
  const Pfn hb = dev.backing(h);
  const uint64_t f0 = sys.phys.free_frames();
  for (uint64_t k = 0; k + 1 < kHugePages; ++k) sys.pagemaps.put(h + k);
  EXPECT_EQ(sys.phys.free_frames(), f0 + kHugePages - 1);  // backing subpages go one by one
  EXPECT_EQ(dev.alloc_page(true, nullptr), kNoPfn);          // folio incomplete, no chunk left
  const uint64_t small_before = dev.pages_in_use();
  sys.pagemaps.put(h + kHugePages - 1);
  EXPECT_EQ(sys.phys.refcount(hb + kHugePages - 1), 0u);
  EXPECT_EQ(dev.pages_in_use(), small_before - 1);
  EXPECT_EQ(dev.alloc_page(true, nullptr), h);
  // Subpages never land on the 4 KiB list: small pages still come from chunk 0.
  EXPECT_EQ(dev.alloc_page(false, nullptr), DevicePagemaps::kDeviceBase);
}

TEST(DmirrorDevMem, NoBackingPageMeansNoDevicePage) {
  HostSystem sys(4096);
  DmirrorDevice dev(sys, spec("d", DmirrorKind::Private, 1024, 2));
  sys.phys.fail_next_allocs(1);
  EXPECT_EQ(dev.alloc_page(false, nullptr), kNoPfn);
  sys.phys.fail_next_allocs(1);
  EXPECT_EQ(dev.alloc_page(true, nullptr), kNoPfn);
  EXPECT_EQ(dev.s_chunks, 1u);  // the backing folio is allocated before any chunk
  EXPECT_EQ(dev.pages_in_use(), 0u);
  EXPECT_EQ(dev.alloc_page(false, nullptr), DevicePagemaps::kDeviceBase);
}

// ---- ioctl front end (§1.2) ---------------------------------------------------

TEST_F(DmirrorIoctl, ArgumentChecksComeFirstForEveryCommand) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const DmirrorCmd all[] = {DmirrorCmd::Read,      DmirrorCmd::Write,          DmirrorCmd::MigrateToDev,
                            DmirrorCmd::MigrateToSys, DmirrorCmd::Snapshot,   DmirrorCmd::Exclusive,
                            DmirrorCmd::CheckExclusive, DmirrorCmd::Release,   DmirrorCmd::Flags};
  struct Bad {
    uint64_t addr, npages;
  };
  const Bad bad[] = {{kBase + 1, 1}, {kBase + 8, 2}, {kBase, 0}, {kBase, ~0ull >> kPageShift}};
  for (DmirrorCmd c : all)
    for (const Bad& b : bad) {
      buf.assign(7, 0xAB);
      const DmirrorResult r = run(c, b.addr, b.npages);
      EXPECT_EQ(r.status, Status::Inval) << to_string(c) << " addr " << b.addr << " npages " << b.npages;
      EXPECT_EQ(r.cpages, 0u);
      EXPECT_EQ(r.faults, 0u);
      EXPECT_EQ(buf, std::vector<uint8_t>(7, 0xAB)) << to_string(c);
    }
  EXPECT_EQ(fd->flags(), 0u);  // FLAGS with npages 0 never gets through
  EXPECT_TRUE(fd->page_table().empty());
  EXPECT_TRUE(mm.entries(0, ~0ull).empty());
  EXPECT_EQ(dev.s_chunks, 1u);  // RELEASE did not run

  const DmirrorResult r = run(DmirrorCmd::Flags, kBase, kDmirrorFailAlloc);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(fd->flags(), kDmirrorFailAlloc);
}

// mmget_not_zero() fails once the mirrored process is gone: SNAPSHOT and
// EXCLUSIVE return -EINVAL (§1.9, §1.10), as the migrations do (§1.7, §1.8).
TEST_F(DmirrorIoctl, CommandsAfterTheMmExited) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  mm.exit();
  EXPECT_EQ(run(DmirrorCmd::MigrateToDev, kBase, 1).status, Status::Inval);
  EXPECT_EQ(run(DmirrorCmd::MigrateToSys, kBase, 1).status, Status::Inval);
  EXPECT_EQ(run(DmirrorCmd::Snapshot, kBase, 1).status, Status::Inval);
  EXPECT_EQ(run(DmirrorCmd::Exclusive, kBase, 1).status, Status::Inval);
  EXPECT_EQ(run(DmirrorCmd::Read, kBase, 1).status, Status::Fault);  // dmirror_fault: -EFAULT (ae6cb93)
}

// ---- READ (§1.5) --------------------------------------------------------------

TEST_F(DmirrorRead, FaultsOnceThenServesFromTheDevicePageTable) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(2, 1);
  ASSERT_EQ(fill(mm, kBase + 2 * P, data), Status::Ok);
  DmirrorResult r = run(DmirrorCmd::Read, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_EQ(r.faults, 1u);
  std::vector<uint8_t> want = zeros(2);
  want.insert(want.end(), data.begin(), data.end());
  EXPECT_TRUE(same(buf, want));
  ASSERT_EQ(fd->page_table().size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    const Dmirror::Entry* e = entry(*fd, kBase + i * P);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->page, mm.pte(kBase + i * P).pfn) << i;
    EXPECT_EQ(e->tag, i < 2 ? Dmirror::kTagRead : Dmirror::kTagWrite) << i;
  }
  EXPECT_EQ(mm.pte(kBase).pfn, sys.phys.zero_pfn());  // a read fault maps the zero page
  EXPECT_EQ(fd->s_fault_calls, 1u);

  r = run(DmirrorCmd::Read, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_EQ(r.faults, 0u);
  EXPECT_EQ(fd->s_fault_calls, 1u);
  EXPECT_TRUE(same(buf, want));
}

TEST_F(DmirrorRead, OneFaultCallCoversSeveral32PageChunks) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 100 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(100, 2);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  const DmirrorResult r = run(DmirrorCmd::Read, kBase, 100);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 100u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_EQ(fd->s_fault_calls, 1u);
  EXPECT_EQ(fd->page_table().size(), 100u);
  EXPECT_TRUE(same(buf, data));
}

TEST_F(DmirrorRead, ProtNoneAndMissingVmaAreFaultAndLeaveTheBufferAlone) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtNone, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 32 * P, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const std::vector<uint8_t> canary(2 * P, 0x5A);
  buf = canary;
  EXPECT_EQ(run(DmirrorCmd::Read, kBase, 2).status, Status::Fault);
  EXPECT_EQ(buf, canary);
  EXPECT_EQ(run(DmirrorCmd::Read, kBase + 16 * P, 1).status, Status::Fault);  // no VMA
  EXPECT_EQ(buf, canary);
  EXPECT_EQ(run(DmirrorCmd::Read, kBase + 32 * P, 2).status, Status::Fault);  // runs off the VMA
  EXPECT_EQ(buf, canary);
  EXPECT_TRUE(fd->page_table().empty());  // a failing chunk stores nothing
}

// ---- WRITE (§1.6) -------------------------------------------------------------

TEST_F(DmirrorWrite, UntouchedMemoryFaultsOnceAndTheDataLands) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 3);
  buf = data;
  const DmirrorResult r = run(DmirrorCmd::Write, kBase, 4);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 4u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_TRUE(same(cpu(mm, kBase, 4), data));
  for (uint64_t i = 0; i < 4; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_TRUE(p.write && p.dirty);
    const Dmirror::Entry* e = entry(*fd, kBase + i * P);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->page, p.pfn);
    EXPECT_EQ(e->tag, Dmirror::kTagWrite);
  }
}

TEST_F(DmirrorWrite, ReadOnlyVmaIsPerm) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  buf = pat(2, 4);
  EXPECT_EQ(run(DmirrorCmd::Write, kBase, 2).status, Status::Perm);
  EXPECT_TRUE(fd->page_table().empty());
  EXPECT_TRUE(same(cpu(mm, kBase, 2), zeros(2)));
  // Reading is fine: the zero page, read-only on the device.
  const DmirrorResult r = run(DmirrorCmd::Read, kBase, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 1u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_EQ(entry(*fd, kBase)->tag, Dmirror::kTagRead);
  EXPECT_EQ(entry(*fd, kBase)->page, sys.phys.zero_pfn());
}

TEST_F(DmirrorWrite, ReadOnlyEntriesAreFaultedForWrite) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  DmirrorResult r = run(DmirrorCmd::Read, kBase, 2);
  ASSERT_EQ(r.status, Status::Ok);
  ASSERT_EQ(entry(*fd, kBase)->page, sys.phys.zero_pfn());
  const auto data = pat(2, 5);
  buf = data;
  r = run(DmirrorCmd::Write, kBase, 2);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 2u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_EQ(mm.s_cow_copies, 2u);  // zero pages replaced by copies
  for (uint64_t i = 0; i < 2; ++i) {
    const Dmirror::Entry* e = entry(*fd, kBase + i * P);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->tag, Dmirror::kTagWrite);
    EXPECT_NE(e->page, sys.phys.zero_pfn());
    EXPECT_EQ(e->page, mm.pte(kBase + i * P).pfn);
  }
  EXPECT_TRUE(same(cpu(mm, kBase, 2), data));
}

TEST_F(DmirrorWrite, PagesBeforeAFailingFaultAreAlreadyWritten) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + P, P, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  buf = pat(1, 1);
  DmirrorResult r = run(DmirrorCmd::Write, kBase, 1);
  ASSERT_EQ(r.status, Status::Ok);
  ASSERT_EQ(r.faults, 1u);
  const auto data = pat(2, 2);
  buf = data;
  r = run(DmirrorCmd::Write, kBase, 2);
  EXPECT_EQ(r.status, Status::Perm);
  EXPECT_TRUE(same(cpu(mm, kBase, 1), slice(data, 0, 1)));
  EXPECT_TRUE(same(cpu(mm, kBase + P, 1), zeros(1)));
}

// ---- SNAPSHOT (§1.9) ----------------------------------------------------------

TEST_F(DmirrorSnapshot, ByteValuesWithoutTouchingThePageTable) {
  DmirrorDevice dev1(sys, spec("dmirror1"));
  auto fd1 = dev1.open(mm);
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtNone, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 2 * P, P, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 3 * P, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 4 * P, 3 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(cpu(mm, kBase + 2 * P, 1).size(), P);  // zero page
  ASSERT_EQ(fill(mm, kBase + 3 * P, pat(1, 1)), Status::Ok);
  ASSERT_EQ(mm.mprotect(kBase + 3 * P, P, kProtRead), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + 4 * P, pat(1, 2)), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase + 5 * P, 1).status, Status::Ok);
  ASSERT_EQ(run(*fd1, DmirrorCmd::MigrateToDev, kBase + 6 * P, 1).status, Status::Ok);
  const auto before = keys(*fd);
  const uint64_t calls = fd->s_fault_calls;

  const DmirrorResult r = run(DmirrorCmd::Snapshot, kBase, 7);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 7u);
  EXPECT_EQ(r.faults, 0u);
  EXPECT_EQ(buf, (std::vector<uint8_t>{0xFF, 0xFF, 0x11, 0x01, 0x02, 0x22, 0x00}));
  EXPECT_EQ(keys(*fd), before);
  EXPECT_EQ(fd->s_fault_calls, calls);
  EXPECT_EQ(mm.pte(kBase + 6 * P).kind, PteKind::DevicePrivate);  // never faulted
  EXPECT_EQ(mm.pte(kBase + P).kind, PteKind::None);
  // The other device sees its own page as local and ours as not present.
  EXPECT_EQ(run(*fd1, DmirrorCmd::Snapshot, kBase + 5 * P, 2).status, Status::Ok);
  EXPECT_EQ(buf, (std::vector<uint8_t>{0x00, 0x22}));
}

TEST_F(DmirrorSnapshot, HugeMappings) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 3 * M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, 3 * M2, Advice::Hugepage), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(1, 1)), Status::Ok);              // THP
  ASSERT_EQ(cpu(mm, kBase + M2, 1).size(), P);                     // huge zero page
  ASSERT_EQ(fill(mm, kBase + 2 * M2, pat(1, 2)), Status::Ok);     // THP, then to the device
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase + 2 * M2, kHugePages).status, Status::Ok);
  ASSERT_TRUE(mm.pte(kBase + 2 * M2).pmd);
  const DmirrorResult r = run(DmirrorCmd::Snapshot, kBase, 3 * kHugePages);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 3 * kHugePages);
  std::vector<uint8_t> want(kHugePages, 0x06);
  want.insert(want.end(), kHugePages, 0x05);
  want.insert(want.end(), kHugePages, 0x26);
  EXPECT_EQ(buf, want);
  ASSERT_EQ(mm.mprotect(kBase, M2, kProtRead), Status::Ok);
  EXPECT_EQ(run(DmirrorCmd::Snapshot, kBase, kHugePages).status, Status::Ok);
  EXPECT_EQ(buf, std::vector<uint8_t>(kHugePages, 0x05));
}

TEST_F(DmirrorSnapshot, OtherDevicesPmdPageIsErrorAndAReadFaultsItBackWhole) {
  DmirrorDevice dev1(sys, spec("dmirror1"));
  auto fd1 = dev1.open(mm);
  const auto data = pat(kHugePages, 11);
  thp_region(data);
  ASSERT_EQ(run(DmirrorCmd::MigrateToDev, kBase, kHugePages).status, Status::Ok);
  ASSERT_TRUE(mm.pte(kBase).pmd);
  DmirrorResult r = run(*fd1, DmirrorCmd::Snapshot, kBase, kHugePages);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(buf, std::vector<uint8_t>(kHugePages, 0xFF));  // PMD level: ERROR, unlike a PTE (0x00)
  r = run(*fd1, DmirrorCmd::Read, kBase, kHugePages);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, kHugePages);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_TRUE(same(buf, data));
  EXPECT_EQ(dev.s_migrate_to_ram, 1u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_TRUE(mm.pte(kBase).pmd);
  EXPECT_EQ(run(*fd1, DmirrorCmd::Snapshot, kBase, 1).status, Status::Ok);
  EXPECT_EQ(buf, std::vector<uint8_t>{0x06});
}

// ---- EXCLUSIVE / CHECK_EXCLUSIVE (§1.10) --------------------------------------

TEST_F(DmirrorExclusive, AtomicEntriesAndRevocationByTheCpu) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 9);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Read, kBase, 4).status, Status::Ok);
  const DmirrorResult r = run(DmirrorCmd::Exclusive, kBase, 2);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 2u);
  EXPECT_EQ(r.faults, 0u);
  EXPECT_TRUE(same(buf, slice(data, 0, 2)));
  // Each conversion's EXCLUSIVE event (owner NULL) erased [addr, addr + 1 page]:
  // the page after the range is gone too.
  EXPECT_EQ(keys(*fd), (std::vector<uint64_t>{kBase, kBase + P, kBase + 3 * P}));
  for (uint64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(entry(*fd, kBase + i * P)->tag, Dmirror::kTagAtomic);
    EXPECT_EQ(entry(*fd, kBase + i * P)->page, mm.pte(kBase + i * P).pfn);
    EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::Exclusive);
    EXPECT_EQ(mm.pte(kBase + i * P).owner, nullptr);
  }
  EXPECT_EQ(entry(*fd, kBase + 3 * P)->tag, Dmirror::kTagWrite);
  EXPECT_EQ(run(DmirrorCmd::CheckExclusive, kBase, 4).status, Status::Perm);
  EXPECT_EQ(run(DmirrorCmd::CheckExclusive, kBase + 2 * P, 2).status, Status::Ok);

  // A CPU read restores page 0; the CLEAR erases pages 0 and 1.
  EXPECT_TRUE(same(cpu(mm, kBase, 1), slice(data, 0, 1)));
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase + P).kind, PteKind::Exclusive);
  EXPECT_EQ(keys(*fd), (std::vector<uint64_t>{kBase + 3 * P}));
  EXPECT_EQ(run(DmirrorCmd::CheckExclusive, kBase, 4).status, Status::Ok);
}

TEST_F(DmirrorExclusive, ReadUsesAtomicEntriesWriteFaultsThemBack) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(1, 1)), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Exclusive, kBase, 1).status, Status::Ok);
  DmirrorResult r = run(DmirrorCmd::Read, kBase, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.faults, 0u);
  EXPECT_TRUE(same(buf, pat(1, 1)));
  buf = pat(1, 2);
  r = run(DmirrorCmd::Write, kBase, 1);
  EXPECT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.cpages, 1u);
  EXPECT_EQ(r.faults, 1u);
  EXPECT_EQ(mm.s_exclusive_restores, 1u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_EQ(entry(*fd, kBase)->tag, Dmirror::kTagWrite);
  EXPECT_EQ(run(DmirrorCmd::CheckExclusive, kBase, 1).status, Status::Ok);
  EXPECT_TRUE(same(cpu(mm, kBase, 1), pat(1, 2)));
}

TEST_F(DmirrorExclusive, ErrorsStopAtTheFailingPage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + P, P, kRW, VmaKind::AnonShared), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 16 * P, P, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(1, 1)), Status::Ok);
  buf.assign(3, 0x77);
  EXPECT_EQ(run(DmirrorCmd::Exclusive, kBase, 2).status, Status::NotSupp);
  EXPECT_EQ(buf, std::vector<uint8_t>(3, 0x77));
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Exclusive);  // earlier pages stay exclusive
  EXPECT_EQ(entry(*fd, kBase)->tag, Dmirror::kTagAtomic);
  EXPECT_EQ(run(DmirrorCmd::CheckExclusive, kBase, 2).status, Status::Perm);
  EXPECT_EQ(run(DmirrorCmd::Exclusive, kBase + 16 * P, 1).status, Status::Fault);  // GUP for write fails
  EXPECT_EQ(run(DmirrorCmd::Exclusive, kBase + 32 * P, 1).status, Status::Fault);  // no VMA
}

TEST_F(DmirrorExclusive, MprotectReadOnlyRevokesAndWriteIsPerm) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, pat(2, 1)), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Exclusive, kBase, 2).status, Status::Ok);
  ASSERT_EQ(mm.mprotect(kBase, 2 * P, kProtRead), Status::Ok);
  EXPECT_TRUE(fd->page_table().empty());                  // PROTECTION_VMA
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Exclusive);      // the CPU side stays exclusive
  buf = pat(2, 2);
  EXPECT_EQ(run(DmirrorCmd::Write, kBase, 2).status, Status::Perm);
  EXPECT_TRUE(same(cpu(mm, kBase, 2), pat(2, 1)));
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::Present);
  EXPECT_FALSE(mm.pte(kBase).write);
}

TEST_F(DmirrorExclusive, ForkRestoresTheEntriesAndBothSidesCopyOnWrite) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  const auto data = pat(4, 1);
  ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
  ASSERT_EQ(run(DmirrorCmd::Exclusive, kBase, 4).status, Status::Ok);
  auto child = mm.fork();
  EXPECT_TRUE(fd->page_table().empty());  // PROTECTION_PAGE
  EXPECT_EQ(run(DmirrorCmd::CheckExclusive, kBase, 4).status, Status::Ok);
  EXPECT_EQ(mm.s_exclusive_restores, 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(mm.pte(kBase + i * P).kind, PteKind::Present);
    EXPECT_FALSE(mm.pte(kBase + i * P).write);
    EXPECT_EQ(child->pte(kBase + i * P).pfn, mm.pte(kBase + i * P).pfn);
  }
  const auto cdata = pat(4, 2), pdata = pat(4, 3);
  ASSERT_EQ(fill(*child, kBase, cdata), Status::Ok);
  EXPECT_TRUE(same(cpu(mm, kBase, 4), data));
  ASSERT_EQ(fill(mm, kBase, pdata), Status::Ok);
  EXPECT_TRUE(same(cpu(*child, kBase, 4), cdata));
  EXPECT_TRUE(same(cpu(mm, kBase, 4), pdata));
}
