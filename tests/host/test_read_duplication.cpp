// Read duplication (cudaMemAdvise SetReadMostly) in the GPU driver: a GPU
// read of a read-mostly page leaves the page in system memory, write-
// protected, and maps a read-only copy in VRAM; a write on either side, an
// unmap, unsetting the hint or VRAM pressure drops the copy. Device PTEs are
// checked by walking the bytes in the fake's VRAM; copies by reading VRAM.
#include "gpu_driver_fixture.h"

namespace {

// A started rig whose pages [0, n) are mapped and read-mostly.
struct DupRig : Rig {
  explicit DupRig(uint64_t n = 16, uint64_t vram = 16ull << 20, DriverSpec spec = unit_spec())
      : Rig(spec, vram) {
    ok = start();
    map(0, n);
    drv->set_read_mostly(va(0), va(n), true);
  }
  // Device PTE of `page` when it is a valid read-only VRAM copy holding
  // `want`; 0 (and a test failure) otherwise.
  uint64_t expect_copy(uint64_t page, const std::vector<uint8_t>& want) {
    const uint64_t e = bus.walk(va(page));
    EXPECT_TRUE(pt::pte_valid(e)) << "page " << page;
    if (!pt::pte_valid(e)) return 0;
    EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram) << "page " << page;
    EXPECT_FALSE(pt::pte_writable(e)) << "page " << page;
    EXPECT_EQ(e, pt::make_pte(pt::address(e), pt::Aperture::Vram, false)) << "page " << page;
    EXPECT_EQ(vram_page(pt::address(e)), want) << "page " << page;
    return e;
  }
  // The CPU entry of `page`: present, the given system page, write-protected.
  void expect_cpu_read_only(uint64_t page, Pfn pfn) {
    const Pte c = mm->pte(va(page));
    EXPECT_EQ(c.kind, PteKind::Present) << "page " << page;
    EXPECT_EQ(c.pfn, pfn) << "page " << page;
    EXPECT_FALSE(c.write) << "page " << page;
  }
  bool ok = false;
};

}  // namespace

TEST(ReadDuplication, ReadFaultCopiesThePageAndLeavesItInSystemMemory) {
  DupRig r;
  ASSERT_TRUE(r.ok);
  const Pfn p0 = r.fill(0, 7), p1 = r.fill(1, 8);
  ASSERT_TRUE(r.drv->read_mostly(Rig::va(0)));
  ASSERT_FALSE(r.drv->read_mostly(Rig::va(16)));
  const uint64_t sys_free0 = r.sys.phys.free_frames();
  r.fault(0);
  r.drv->service_faults();

  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_dup_pages, 1u);
  EXPECT_EQ(s.s_dup_dropped, 0u);
  EXPECT_EQ(s.s_dup_refused, 0u);
  EXPECT_EQ(s.s_pages_to_vram, 0u);
  EXPECT_EQ(s.s_pages_mapped_remote, 0u);
  EXPECT_EQ(s.s_faults_serviced, 1u);
  EXPECT_EQ(s.s_bytes_h2d, P);
  EXPECT_EQ(r.ce_bytes(CeDir::HostToDevice), P);
  ASSERT_FALSE(r.bus.ce_log.empty());
  EXPECT_EQ(r.bus.ce_log.back().src, PhysMem::pa(p0));
  EXPECT_EQ(r.bus.replays, 1u);
  EXPECT_TRUE(r.bus.cancel_log.empty());
  EXPECT_EQ(r.drv->duplicates(), 1u);

  const uint64_t e = r.expect_copy(0, pattern(7));
  ASSERT_NE(e, 0u);
  EXPECT_EQ(r.bus.ce_log.back().dst, pt::address(e));
  r.expect_cpu_read_only(0, p0);
  EXPECT_EQ(r.sys.phys.refcount(p0), 2u);  // the CPU's mapping and the copy's keeper
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free0);
  // The page next to it was not asked for.
  EXPECT_EQ(r.bus.walk(Rig::va(1)), 0u);
  EXPECT_TRUE(r.mm->pte(Rig::va(1)).write);
  EXPECT_EQ(r.mm->pte(Rig::va(1)).pfn, p1);

  // CPU reads are local and leave the copy alone.
  EXPECT_EQ(r.cpu_page(0), pattern(7));
  EXPECT_EQ(r.mm->s_migrate_to_ram, 0u);
  EXPECT_EQ(r.bus.walk(Rig::va(0)), e);
  EXPECT_EQ(r.drv->duplicates(), 1u);
}

TEST(ReadDuplication, CpuWriteCollapsesTheCopy) {
  DupRig r;
  ASSERT_TRUE(r.ok);
  const Pfn p0 = r.fill(0, 11);
  const uint64_t vram_free0 = r.drv->vram().free_frames();
  const uint64_t tables0 = r.drv->page_table().s_tables;
  r.fault(0);
  r.drv->service_faults();
  ASSERT_NE(r.expect_copy(0, pattern(11)), 0u);
  const uint64_t tables = r.drv->page_table().s_tables - tables0;
  ASSERT_LT(r.drv->vram().free_frames(), vram_free0 - tables);  // the copy holds VRAM
  const size_t tlb0 = r.bus.tlb_log.size();
  const uint64_t sys_free = r.sys.phys.free_frames();

  const uint8_t x = 0x3C;
  ASSERT_EQ(r.mm->cpu_write(Rig::va(0) + 99, &x, 1), Status::Ok);
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(r.bus.walk(Rig::va(0)), 0u);
  EXPECT_FALSE(r.drv->page_table().mapped(Rig::va(0)));
  ASSERT_EQ(r.bus.tlb_log.size(), tlb0 + 1);
  EXPECT_EQ(r.bus.tlb_log.back().va, Rig::va(0));
  EXPECT_EQ(r.drv->duplicates(), 0u);
  EXPECT_EQ(s.s_dup_dropped, 1u);
  EXPECT_EQ(s.s_dup_evicted, 0u);
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free0 - tables);  // the copy's frame is free
  // The page was not the CPU's alone: the write copied it, the old page went
  // with the copy's reference.
  const Pte c = r.mm->pte(Rig::va(0));
  EXPECT_EQ(c.kind, PteKind::Present);
  EXPECT_TRUE(c.write);
  EXPECT_FALSE(r.sys.phys.valid(p0));
  EXPECT_EQ(r.sys.phys.refcount(c.pfn), 1u);
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free);
  EXPECT_EQ(r.mm->s_migrate_to_ram, 0u);
  auto want = pattern(11);
  want[99] = 0x3C;
  EXPECT_EQ(r.cpu_page(0), want);

  // The GPU reads it again: a new copy with the new data.
  r.fault(0);
  r.drv->service_faults();
  EXPECT_NE(r.expect_copy(0, want), 0u);
  r.expect_cpu_read_only(0, c.pfn);
  EXPECT_EQ(s.s_dup_pages, 2u);
  EXPECT_EQ(s.s_pages_to_vram, 0u);
  EXPECT_EQ(r.drv->duplicates(), 1u);
}

// The copy made the CPU entry read-only, and migration keeps that entry's
// write bit: the driver makes the entry writable on the CPU side first
// (make_writable), else the device-private page would be read-only and the
// write would fault forever. Any write-protected page the CPU owns alone
// (e.g. after fork() and the child's exit) takes the same path.
TEST(ReadDuplication, GpuWriteMigratesADuplicatedPage) {
  DupRig r;
  ASSERT_TRUE(r.ok);
  const Pfn p0 = r.fill(0, 21);
  r.fault(0);
  r.drv->service_faults();
  ASSERT_NE(r.expect_copy(0, pattern(21)), 0u);
  const uint64_t vram_free = r.drv->vram().free_frames();

  r.fault(0, AccessType::Write);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(r.drv->duplicates(), 0u);
  EXPECT_EQ(s.s_dup_dropped, 1u);
  EXPECT_EQ(s.s_dup_pages, 1u);
  EXPECT_EQ(s.s_pages_to_vram, 1u);
  EXPECT_TRUE(r.bus.cancel_log.empty());
  const uint64_t e = r.bus.walk(Rig::va(0));
  ASSERT_TRUE(pt::pte_valid(e));
  EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram);
  EXPECT_TRUE(pt::pte_writable(e));
  EXPECT_EQ(r.vram_page(pt::address(e)), pattern(21));
  const Pte c = r.mm->pte(Rig::va(0));
  EXPECT_EQ(c.kind, PteKind::DevicePrivate);
  EXPECT_EQ(c.pfn, r.devpfn(pt::address(e)));
  EXPECT_TRUE(c.write);
  EXPECT_FALSE(r.sys.phys.valid(p0));               // neither the CPU nor the copy holds it
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free);  // one frame freed, one taken

  // A later CPU read brings it back, intact.
  EXPECT_EQ(r.cpu_page(0), pattern(21));
  EXPECT_EQ(r.mm->s_migrate_to_ram, 1u);
  EXPECT_EQ(r.bus.walk(Rig::va(0)), 0u);
  // ... and the next GPU read duplicates it again instead of migrating.
  r.fault(0);
  r.drv->service_faults();
  EXPECT_NE(r.expect_copy(0, pattern(21)), 0u);
  EXPECT_EQ(s.s_dup_pages, 2u);
  EXPECT_EQ(s.s_pages_to_vram, 1u);
}

TEST(ReadDuplication, ReadAndWriteInOneBatchCopyOneAndMigrateTheOther) {
  DupRig r;
  ASSERT_TRUE(r.ok);
  const Pfn p0 = r.fill(0, 1);
  r.fill(1, 2);
  r.fault(0, AccessType::Read);
  r.fault(1, AccessType::Write);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_dup_pages, 1u);
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 1u);
  EXPECT_NE(r.expect_copy(0, pattern(1)), 0u);
  r.expect_cpu_read_only(0, p0);
  const uint64_t e1 = r.bus.walk(Rig::va(1));
  ASSERT_TRUE(pt::pte_valid(e1));
  EXPECT_TRUE(pt::pte_writable(e1));
  EXPECT_EQ(r.vram_page(pt::address(e1)), pattern(2));
  EXPECT_EQ(r.mm->pte(Rig::va(1)).kind, PteKind::DevicePrivate);
}

TEST(ReadDuplication, MunmapDropsCopiesAndLeaksNothing) {
  DupRig r(8);
  ASSERT_TRUE(r.ok);
  const uint64_t sys_free_empty = r.sys.phys.free_frames();
  Pfn p[8];
  for (uint8_t i = 0; i < 8; ++i) p[i] = r.fill(i, 40 + i);
  const uint64_t sys_free0 = r.sys.phys.free_frames();
  ASSERT_EQ(sys_free0, sys_free_empty - 8);
  const uint64_t vram_free0 = r.drv->vram().free_frames();
  const uint64_t tables0 = r.drv->page_table().s_tables;
  for (uint16_t i = 0; i < 8; ++i) r.fault(i, AccessType::Read, i);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->duplicates(), 8u);
  for (uint8_t i = 0; i < 8; ++i) EXPECT_EQ(r.sys.phys.refcount(p[i]), 2u) << int(i);
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free0);
  const uint64_t tables = r.drv->page_table().s_tables - tables0;

  // Part of it: those copies go, the others stay.
  ASSERT_EQ(r.mm->munmap(Rig::va(2), 3 * P), Status::Ok);
  EXPECT_EQ(r.drv->duplicates(), 5u);
  EXPECT_EQ(r.drv->stats().s_dup_dropped, 3u);
  for (uint8_t i = 0; i < 8; ++i) {
    if (i >= 2 && i < 5) {
      EXPECT_EQ(r.bus.walk(Rig::va(i)), 0u) << int(i);
      EXPECT_FALSE(r.sys.phys.valid(p[i])) << int(i);
    } else {
      EXPECT_NE(r.expect_copy(i, pattern(40 + i)), 0u) << int(i);
      EXPECT_EQ(r.sys.phys.refcount(p[i]), 2u) << int(i);
    }
  }
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free0 + 3);

  ASSERT_EQ(r.mm->munmap(Rig::va(0), 8 * P), Status::Ok);
  EXPECT_EQ(r.drv->duplicates(), 0u);
  EXPECT_EQ(r.drv->stats().s_dup_dropped, 8u);
  for (uint8_t i = 0; i < 8; ++i) {
    EXPECT_EQ(r.bus.walk(Rig::va(i)), 0u) << int(i);
    EXPECT_FALSE(r.sys.phys.valid(p[i])) << int(i);
  }
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free_empty);
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free0 - tables);
  EXPECT_EQ(r.drv->stats().s_pages_to_sysmem, 0u);
}

TEST(ReadDuplication, UnsettingTheHintDropsCopiesAndUnmapsThem) {
  DupRig r(8);
  ASSERT_TRUE(r.ok);
  Pfn p[4];
  for (uint8_t i = 0; i < 4; ++i) p[i] = r.fill(i, 60 + i);
  for (uint16_t i = 0; i < 4; ++i) r.fault(i);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->duplicates(), 4u);
  const uint64_t vram_free = r.drv->vram().free_frames();
  const size_t tlb0 = r.bus.tlb_log.size();

  r.drv->set_read_mostly(Rig::va(1), Rig::va(3), false);
  EXPECT_FALSE(r.drv->read_mostly(Rig::va(1)));
  EXPECT_FALSE(r.drv->read_mostly(Rig::va(2)));
  EXPECT_TRUE(r.drv->read_mostly(Rig::va(0)));
  EXPECT_TRUE(r.drv->read_mostly(Rig::va(3)));
  EXPECT_EQ(r.drv->duplicates(), 2u);
  EXPECT_EQ(r.drv->stats().s_dup_dropped, 2u);
  EXPECT_EQ(r.bus.walk(Rig::va(1)), 0u);
  EXPECT_EQ(r.bus.walk(Rig::va(2)), 0u);
  EXPECT_GT(r.bus.tlb_log.size(), tlb0);  // the GPU stops reading them before the frames go
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free + 2);
  EXPECT_EQ(r.sys.phys.refcount(p[1]), 1u);
  EXPECT_EQ(r.sys.phys.refcount(p[2]), 1u);
  EXPECT_NE(r.expect_copy(0, pattern(60)), 0u);
  EXPECT_NE(r.expect_copy(3, pattern(63)), 0u);
  EXPECT_EQ(r.sys.phys.refcount(p[0]), 2u);

  // The CPU owns page 1 alone again: its write reuses the page.
  const uint8_t x = 1;
  ASSERT_EQ(r.mm->cpu_write(Rig::va(1), &x, 1), Status::Ok);
  EXPECT_EQ(r.mm->pte(Rig::va(1)).pfn, p[1]);
  EXPECT_EQ(r.mm->s_cow_copies, 0u);
  // A GPU read of page 2 now migrates it.
  r.fault(2);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 1u);
  EXPECT_EQ(r.drv->stats().s_dup_pages, 4u);
  EXPECT_EQ(r.mm->pte(Rig::va(2)).kind, PteKind::DevicePrivate);
}

TEST(ReadDuplication, VramPressureEvictsCopiesAndLosesNothing) {
  // 32 frames: the root, 5 page tables, then room for one 16-page piece
  // and a bit: two 16-page VMAs in different blocks do not both fit.
  DupRig r(16, 32 * P);
  ASSERT_TRUE(r.ok);
  r.map(512, 16);  // the next 2 MiB block, not read-mostly
  for (uint8_t i = 0; i < 16; ++i) r.fill(i, 80 + i);
  for (uint8_t i = 0; i < 16; ++i) r.fill(512 + i, 100 + i);
  for (uint16_t i = 0; i < 16; ++i) r.fault(i, AccessType::Read, i);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->duplicates(), 16u);
  ASSERT_EQ(r.drv->stats().s_dup_evicted, 0u);

  for (uint16_t i = 0; i < 16; ++i) r.fault(512 + i, AccessType::Read, i);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_GT(s.s_dup_evicted, 0u);
  EXPECT_EQ(s.s_dup_dropped, s.s_dup_evicted);
  EXPECT_EQ(r.drv->duplicates(), 16u - s.s_dup_evicted);
  EXPECT_EQ(s.s_pages_to_sysmem, 0u);  // a copy is dropped, never copied back
  EXPECT_EQ(s.s_bytes_d2h, 0u);
  EXPECT_EQ(s.s_pages_to_vram, 16u);
  for (uint8_t i = 0; i < 16; ++i) {
    const uint64_t e = r.bus.walk(Rig::va(512 + i));
    ASSERT_TRUE(pt::pte_valid(e)) << int(i);
    EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram) << int(i);
    EXPECT_EQ(r.vram_page(pt::address(e)), pattern(100 + i)) << int(i);
  }
  // The evicted copies' pages are the CPU's alone again, with their data.
  for (uint8_t i = 0; i < 16; ++i) {
    const Pte c = r.mm->pte(Rig::va(i));
    ASSERT_EQ(c.kind, PteKind::Present) << int(i);
    if (r.bus.walk(Rig::va(i)) == 0) {
      EXPECT_EQ(r.sys.phys.refcount(c.pfn), 1u) << int(i);
    }
    EXPECT_EQ(r.cpu_page(i), pattern(80 + i)) << int(i);
  }
  // Reading them again on the GPU copies them back in, evicting the other
  // block, whose pages go back to system memory with their data. (Two
  // rounds: see CopyThatNeedsAnEvictionIsMadeInOneService.)
  for (int round = 0; round < 2 && r.drv->duplicates() < 16; ++round) {
    for (uint16_t i = 0; i < 16; ++i) r.fault(i, AccessType::Read, i);
    r.drv->service_faults();
  }
  EXPECT_EQ(r.drv->duplicates(), 16u);
  EXPECT_EQ(s.s_pages_to_sysmem, 16u);
  for (uint8_t i = 0; i < 16; ++i) EXPECT_NE(r.expect_copy(i, pattern(80 + i)), 0u) << int(i);
  for (uint8_t i = 0; i < 16; ++i) EXPECT_EQ(r.cpu_page(512 + i), pattern(100 + i)) << int(i);
  for (uint8_t i = 0; i < 16; ++i) EXPECT_EQ(r.cpu_page(i), pattern(80 + i)) << int(i);
  EXPECT_TRUE(r.bus.cancel_log.empty());
}

// duplicate_run() takes its frames (evicting if need be) before it
// snapshots the notifier sequence: an eviction's own MIGRATE event after the
// snapshot would make every copy that needed one look raced and be thrown
// away, costing a fault/replay round trip and a wasted copy.
TEST(ReadDuplication, CopyThatNeedsAnEvictionIsMadeInOneService) {
  DupRig r(16, 32 * P);  // as above: one 16-page VMA's VRAM at a time
  ASSERT_TRUE(r.ok);
  r.map(512, 16);
  for (uint8_t i = 0; i < 16; ++i) r.fill(i, 80 + i);
  for (uint8_t i = 0; i < 16; ++i) r.fill(512 + i, 100 + i);
  for (uint16_t i = 0; i < 16; ++i) r.fault(512 + i, AccessType::Write, i);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->stats().s_pages_to_vram, 16u);
  const uint64_t h2d = r.ce_bytes(CeDir::HostToDevice);

  for (uint16_t i = 0; i < 16; ++i) r.fault(i, AccessType::Read, i);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_pages_to_sysmem, 16u);  // the other block made room
  EXPECT_EQ(r.drv->duplicates(), 16u);
  EXPECT_EQ(s.s_dup_pages, 16u);
  EXPECT_EQ(s.s_faults_serviced, 32u);
  // The replay's refaults make them (VRAM is free now); all told, each
  // page must have been copied once.
  for (uint16_t i = 0; i < 16; ++i) r.fault(i, AccessType::Read, i);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->duplicates(), 16u);
  EXPECT_EQ(r.ce_bytes(CeDir::HostToDevice) - h2d, 16 * P) << "copies thrown away";
}

TEST(ReadDuplication, PagesWithoutTheHintStillMigrate) {
  DupRig r(4);
  ASSERT_TRUE(r.ok);
  r.map(16, 4);  // no hint here
  const Pfn p = r.fill(16, 5);
  r.fault(16);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_dup_pages, 0u);
  EXPECT_EQ(s.s_pages_to_vram, 1u);
  EXPECT_EQ(r.drv->duplicates(), 0u);
  const uint64_t e = r.bus.walk(Rig::va(16));
  ASSERT_TRUE(pt::pte_valid(e));
  EXPECT_TRUE(pt::pte_writable(e));
  EXPECT_EQ(r.vram_page(pt::address(e)), pattern(5));
  EXPECT_EQ(r.mm->pte(Rig::va(16)).kind, PteKind::DevicePrivate);
  EXPECT_FALSE(r.sys.phys.valid(p));
}

TEST(ReadDuplication, SharedMemoryRefusesAndIsServedAsUsual) {
  Rig r;
  ASSERT_TRUE(r.start());
  ASSERT_EQ(r.mm->mmap_fixed(Rig::va(0), 4 * P, kProtRead | kProtWrite, VmaKind::AnonShared), Status::Ok);
  const Pfn p0 = r.fill(0, 33);
  r.drv->set_read_mostly(Rig::va(0), Rig::va(4), true);
  r.fault(0);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_dup_refused, 1u);
  EXPECT_EQ(s.s_dup_pages, 0u);
  EXPECT_EQ(r.drv->duplicates(), 0u);
  EXPECT_TRUE(r.bus.cancel_log.empty());
  EXPECT_EQ(s.s_faults_serviced, 1u);
  // Served as without the hint: whatever that is, the GPU reads the data
  // and the CPU's entry was not write-protected.
  const uint64_t e = r.bus.walk(Rig::va(0));
  ASSERT_TRUE(pt::pte_valid(e));
  if (pt::aperture(e) == pt::Aperture::Vram) {
    EXPECT_EQ(r.vram_page(pt::address(e)), pattern(33));
  } else {
    EXPECT_EQ(pt::address(e), PhysMem::pa(p0));
  }
  const Pte c = r.mm->pte(Rig::va(0));
  if (c.kind == PteKind::Present) {
    EXPECT_TRUE(c.write);
  }
  EXPECT_EQ(r.cpu_page(0), pattern(33));
}

TEST(ReadDuplication, ZeroPageIsCopiedAsZerosAndAWriteCollapsesIt) {
  DupRig r(4);
  ASSERT_TRUE(r.ok);
  uint8_t b = 0xFF;
  ASSERT_EQ(r.mm->cpu_read(Rig::va(0), &b, 1), Status::Ok);  // page 0: the zero page; page 1: a hole
  ASSERT_EQ(b, 0);
  const Pfn zero = r.sys.phys.zero_pfn();
  ASSERT_EQ(r.mm->pte(Rig::va(0)).pfn, zero);
  const uint32_t zero_refs = r.sys.phys.refcount(zero);
  const uint64_t sys_free = r.sys.phys.free_frames();
  r.fault(0, AccessType::Read, 0);
  r.fault(1, AccessType::Read, 1);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_dup_pages, 2u);
  EXPECT_EQ(s.s_pages_to_vram, 0u);
  EXPECT_EQ(s.s_bytes_h2d, 0u);
  EXPECT_EQ(r.ce_bytes(CeDir::FillZero), 2 * P);
  EXPECT_EQ(r.ce_bytes(CeDir::HostToDevice), 0u);
  EXPECT_NE(r.expect_copy(0, kZeroPage), 0u);
  EXPECT_NE(r.expect_copy(1, kZeroPage), 0u);
  r.expect_cpu_read_only(0, zero);
  r.expect_cpu_read_only(1, zero);  // the hole got the zero page, no memory
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free);

  // The CPU writes page 0: it gets a page of its own, the copy goes.
  const uint8_t x = 0xFF;
  ASSERT_EQ(r.mm->cpu_write(Rig::va(0) + 5, &x, 1), Status::Ok);
  EXPECT_EQ(r.bus.walk(Rig::va(0)), 0u);
  EXPECT_EQ(r.drv->duplicates(), 1u);
  EXPECT_EQ(s.s_dup_dropped, 1u);
  EXPECT_NE(r.mm->pte(Rig::va(0)).pfn, zero);
  EXPECT_NE(r.expect_copy(1, kZeroPage), 0u);
  auto want = kZeroPage;
  want[5] = 0xFF;
  EXPECT_EQ(r.cpu_page(0), want);
  r.fault(0);
  r.drv->service_faults();
  EXPECT_NE(r.expect_copy(0, want), 0u);

  // Unmapped, the zero page's references are as before.
  ASSERT_EQ(r.mm->munmap(Rig::va(0), 4 * P), Status::Ok);
  EXPECT_EQ(r.drv->duplicates(), 0u);
  EXPECT_EQ(r.sys.phys.refcount(zero), zero_refs);  // the zero page is never freed
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free);
}

TEST(ReadDuplication, CpuWriteDropsOnlyTheCopyOfThePageWritten) {
  DupRig r(8);
  ASSERT_TRUE(r.ok);
  Pfn p[4];
  for (uint8_t i = 0; i < 4; ++i) p[i] = r.fill(i, 120 + i);
  for (uint16_t i = 0; i < 4; ++i) r.fault(i, AccessType::Read, i);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->duplicates(), 4u);
  const uint8_t x = 0x77;
  ASSERT_EQ(r.mm->cpu_write(Rig::va(2) + 1, &x, 1), Status::Ok);
  EXPECT_EQ(r.drv->duplicates(), 3u);
  EXPECT_EQ(r.drv->stats().s_dup_dropped, 1u);
  EXPECT_EQ(r.bus.walk(Rig::va(2)), 0u);
  for (uint8_t i : {0, 1, 3}) {
    EXPECT_NE(r.expect_copy(i, pattern(120 + i)), 0u) << int(i);
    r.expect_cpu_read_only(i, p[i]);
  }
}

// The fault-driven prefetcher leaves read-mostly pages alone: they are
// copied when read, never migrated ahead of use.
TEST(ReadDuplication, PrefetchSkipsReadMostlyPages) {
  for (bool hint : {false, true}) {
    SCOPED_TRACE(hint ? "read-mostly pages 0-3" : "no hint");
    DriverSpec spec = unit_spec();
    spec.prefetch.impl = "uvm_tree";
    Rig r(spec);
    ASSERT_TRUE(r.start());
    r.map(0, 16);
    Pfn p[16];
    for (uint8_t i = 0; i < 16; ++i) p[i] = r.fill(i, 140 + i);
    if (hint) r.drv->set_read_mostly(Rig::va(0), Rig::va(4), true);
    for (uint16_t i = 4; i < 16; ++i) r.fault(i, AccessType::Write, i);
    r.drv->service_faults();
    const DriverStats& s = r.drv->stats();
    if (!hint) {
      // The control: without the hint the prefetcher takes pages 0-3.
      EXPECT_EQ(s.s_pages_prefetcher, 4u);
      EXPECT_EQ(r.mm->pte(Rig::va(0)).kind, PteKind::DevicePrivate);
      continue;
    }
    EXPECT_EQ(s.s_pages_prefetcher, 0u);
    EXPECT_EQ(s.s_pages_to_vram, 12u);
    EXPECT_EQ(s.s_dup_pages, 0u);
    for (uint8_t i = 0; i < 4; ++i) {
      EXPECT_EQ(r.mm->pte(Rig::va(i)).kind, PteKind::Present) << int(i);
      EXPECT_EQ(r.mm->pte(Rig::va(i)).pfn, p[i]) << int(i);
      EXPECT_EQ(r.bus.walk(Rig::va(i)), 0u) << int(i);
    }
  }
}

// A transparent huge page: copying part of it splits the PMD mapping; a
// CPU write afterwards leaves no copy that differs from what the CPU sees.
TEST(ReadDuplication, TransparentHugePageCopiesStayCoherent) {
  DupRig r(512);
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.mm->madvise(Rig::va(0), kBlock, Advice::Hugepage), Status::Ok);
  for (uint8_t i = 0; i < 8; ++i) r.fill(i, 160 + i);
  ASSERT_TRUE(r.mm->pte(Rig::va(0)).pmd) << "the test needs a THP";
  const Pfn head = r.mm->pte(Rig::va(0)).pfn;
  for (uint16_t i = 2; i < 6; ++i) r.fault(i, AccessType::Read, i);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->duplicates(), 4u);
  EXPECT_EQ(r.mm->s_thp_splits, 1u);
  for (uint8_t i = 0; i < 8; ++i) {
    const Pte c = r.mm->pte(Rig::va(i));
    EXPECT_FALSE(c.pmd) << int(i);
    EXPECT_EQ(c.pfn, head + i) << int(i);
    EXPECT_EQ(c.write, i < 2 || i >= 6) << int(i);
    if (i >= 2 && i < 6) {
      EXPECT_NE(r.expect_copy(i, pattern(160 + i)), 0u) << int(i);
    }
  }
  // Writes: page 3 copies (a copy holds it), page 6 (no copy) is reused.
  const uint8_t x = 0x99;
  ASSERT_EQ(r.mm->cpu_write(Rig::va(3), &x, 1), Status::Ok);
  ASSERT_EQ(r.mm->cpu_write(Rig::va(6), &x, 1), Status::Ok);
  EXPECT_NE(r.mm->pte(Rig::va(3)).pfn, head + 3);
  EXPECT_EQ(r.mm->pte(Rig::va(6)).pfn, head + 6);
  EXPECT_EQ(r.drv->duplicates(), 3u);
  for (uint8_t i = 0; i < 8; ++i) {
    const uint64_t e = r.bus.walk(Rig::va(i));
    if (pt::pte_valid(e)) {
      EXPECT_EQ(r.vram_page(pt::address(e)), r.cpu_page(i)) << int(i);
    }
  }
  EXPECT_EQ(r.bus.walk(Rig::va(3)), 0u);
}

// The process exits while copies exist: RELEASE drops them, and every page
// goes back (the copies' references included).
TEST(ReadDuplication, ProcessExitReleasesCopies) {
  DupRig r(4);
  ASSERT_TRUE(r.ok);
  const uint64_t sys_free0 = r.sys.phys.free_frames();
  const Pfn p0 = r.fill(0, 1), p1 = r.fill(1, 2);
  r.fault(0, AccessType::Read, 0);
  r.fault(1, AccessType::Read, 1);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->duplicates(), 2u);
  r.mm->exit();
  EXPECT_EQ(r.drv->duplicates(), 0u);
  EXPECT_FALSE(r.sys.phys.valid(p0));
  EXPECT_FALSE(r.sys.phys.valid(p1));
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free0);
}

// GpuDriver::detach(), run by the destructor, drops the copies: the
// references they hold on system pages are put, so those pages can be freed.
TEST(ReadDuplication, DriverTeardownReleasesItsCopies) {
  DupRig r(4);
  ASSERT_TRUE(r.ok);
  const Pfn p0 = r.fill(0, 1);
  r.fault(0);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->duplicates(), 1u);
  ASSERT_EQ(r.sys.phys.refcount(p0), 2u);
  r.drv.reset();
  EXPECT_EQ(r.sys.phys.refcount(p0), 1u);
  const uint64_t sys_free = r.sys.phys.free_frames();
  ASSERT_EQ(r.mm->munmap(Rig::va(0), 4 * P), Status::Ok);
  EXPECT_EQ(r.sys.phys.free_frames(), sys_free + 1);
}
