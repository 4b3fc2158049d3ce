// GpuDriver against FakeDeviceBus: BAR0 programming, the replayable fault
// pipeline (fetch, coalesce, migrate / remote map, PTEs in VRAM, TLB
// invalidate, replay, cancel), the CPU side (migrate_to_ram, munmap, COW)
// and VRAM exhaustion. Device PTEs are checked by walking the bytes the
// driver wrote into the fake's VRAM, independently of the driver's shadow.
#include "gpu_driver_fixture.h"

// ---- init ----------------------------------------------------------------

TEST(GpuDriver, InitProgramsBar0) {
  Rig r;
  const uint64_t free0 = r.sys.phys.free_frames();
  ASSERT_EQ(r.drv->init(kMsi), Status::Ok);
  EXPECT_GE(r.bus.id_reads, 1u);

  // Fault ring: 1024 entries x 32 B = 8 contiguous, referenced host frames.
  const uint64_t ring = r.drv->fault_ring_pa();
  EXPECT_EQ(r.bus.reg64(bar0::kFaultBufBaseLo), ring);
  EXPECT_NE(PhysMem::pfn_of(ring), r.sys.phys.zero_pfn());
  EXPECT_EQ(ring % P, 0u);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(r.sys.phys.valid(PhysMem::pfn_of(ring) + i)) << i;
  EXPECT_EQ(r.sys.phys.free_frames(), free0 - 8);
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufEntries), 1024u);
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufGet), 0u);

  // Page directory base: the root table, lowest VRAM frame, cleared.
  EXPECT_EQ(r.bus.reg64(bar0::kPdbLo), r.drv->page_table().root_pa());
  EXPECT_EQ(r.drv->page_table().root_pa(), 0u);
  for (uint64_t off = 0; off < pt::table_bytes(0); off += 8)
    EXPECT_EQ(r.bus.vram_u64(r.drv->page_table().root_pa() + off), 0u) << off;
  EXPECT_EQ(r.drv->vram().free_frames(), r.drv->vram().total_frames() - 1);

  EXPECT_EQ(r.bus.reg64(bar0::kMsiAddrLo), kMsi);
  EXPECT_EQ(r.bus.reg(bar0::kIntrEnable), hmmsim::hwref::kIntrFault | hmmsim::hwref::kIntrCopy);

  // VRAM registered as device-private memory owned by the driver.
  const DevicePagemap* pm = r.sys.pagemaps.find(DevicePagemaps::kDeviceBase);
  ASSERT_NE(pm, nullptr);
  EXPECT_EQ(pm->owner, r.drv.get());
  EXPECT_EQ(pm->npages, (16ull << 20) / P);

  EXPECT_EQ(r.bus.walk(kBase), 0u);
  EXPECT_EQ(r.bus.replays, 0u);
  EXPECT_TRUE(r.bus.ce_log.empty());
  EXPECT_TRUE(r.bus.tlb_log.empty());
}

TEST(GpuDriver, InitRejectsAWrongDevice) {
  Rig r;
  r.bus.set_id(0x12345678);
  const uint64_t free0 = r.sys.phys.free_frames();
  EXPECT_EQ(r.drv->init(kMsi), Status::Inval);
  EXPECT_EQ(r.sys.phys.free_frames(), free0);
  EXPECT_TRUE(r.bus.mmio_write_log.empty());
}

// ---- migrate policy -------------------------------------------------------

TEST(GpuDriver, ReadFaultsMigrateDataAndHolesToVram) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 16);
  Pfn src[4];
  for (uint8_t i = 0; i < 4; ++i) src[i] = r.fill(i, i);
  for (int i = 1; i < 4; ++i) ASSERT_EQ(src[i], src[0] + i) << "test assumes contiguous frames";
  uint8_t b;
  ASSERT_EQ(r.mm->cpu_read(Rig::va(5), &b, 1), Status::Ok);  // page 5: zero page
  const uint64_t free0 = r.sys.phys.free_frames();
  const uint64_t vram_free0 = r.drv->vram().free_frames();

  for (uint16_t i = 0; i < 8; ++i) r.fault(i, AccessType::Read, i);
  r.drv->service_faults();

  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_interrupts, 1u);
  EXPECT_EQ(s.s_batches, 1u);
  EXPECT_EQ(s.s_faults_fetched, 8u);
  EXPECT_EQ(s.s_faults_duplicate, 0u);
  EXPECT_EQ(s.s_faults_serviced, 8u);
  EXPECT_EQ(s.s_faults_fatal, 0u);
  EXPECT_EQ(s.s_blocks, 1u);
  EXPECT_EQ(s.s_pages_to_vram, 8u);
  EXPECT_EQ(s.s_bytes_h2d, 4 * P);
  EXPECT_EQ(s.s_pages_to_sysmem, 0u);
  EXPECT_EQ(s.s_pages_mapped_remote, 0u);
  EXPECT_EQ(s.s_vram_alloc_failures, 0u);
  EXPECT_EQ(s.s_replays, 1u);
  EXPECT_EQ(r.bus.replays, 1u);
  EXPECT_TRUE(r.bus.cancel_log.empty());

  // Copy engine: one H2D run for the 4 contiguous data pages, one zero-fill
  // run for the 4 holes; every completion interrupt consumed.
  EXPECT_EQ(r.ce_bytes(CeDir::HostToDevice), 4 * P);
  EXPECT_EQ(r.ce_bytes(CeDir::FillZero), 4 * P);
  EXPECT_EQ(r.ce_bytes(CeDir::DeviceToHost), 0u);
  EXPECT_EQ(r.bus.ce_log.size(), 2u);
  EXPECT_EQ(s.s_dma_commands, r.bus.ce_log.size());
  EXPECT_EQ(r.bus.ce_log[0].src, PhysMem::pa(src[0]));
  EXPECT_EQ(r.bus.pending_irqs(hmmsim::hwref::kMsiVectorCopy), 0u);
  EXPECT_EQ(r.bus.reg(bar0::kCeDoneSeq), r.bus.ce_log.back().seq);

  // PTEs in VRAM, as the GPU would walk them.
  std::set<uint64_t> frames;
  for (uint8_t i = 0; i < 8; ++i) {
    const uint64_t e = r.bus.walk(Rig::va(i));
    ASSERT_TRUE(pt::pte_valid(e)) << int(i);
    EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram) << int(i);
    EXPECT_TRUE(pt::pte_writable(e)) << int(i);
    const uint64_t pa = pt::address(e);
    EXPECT_EQ(e, pt::make_pte(pa, pt::Aperture::Vram, true));
    EXPECT_EQ(e, r.drv->page_table().pte(Rig::va(i)));
    EXPECT_NE(pa, r.drv->page_table().root_pa());
    frames.insert(pa);
    // The CPU page table names the same frame as a device-private page.
    const Pte c = r.mm->pte(Rig::va(i));
    EXPECT_EQ(c.kind, PteKind::DevicePrivate) << int(i);
    EXPECT_EQ(c.pfn, r.devpfn(pa)) << int(i);
    EXPECT_TRUE(c.write);
    EXPECT_EQ(r.vram_page(pa), i < 4 ? pattern(i) : kZeroPage) << int(i);
  }
  EXPECT_EQ(frames.size(), 8u);
  for (uint64_t i = 8; i < 16; ++i) EXPECT_EQ(r.bus.walk(Rig::va(i)), 0u) << i;
  // 8 data frames + 4 new tables (PD2, PD1, PD0, PT).
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free0 - 12);

  // The source frames went back to the host.
  for (Pfn p : src) EXPECT_FALSE(r.sys.phys.valid(p));
  EXPECT_EQ(r.sys.phys.free_frames(), free0 + 4);

  // Ring: GET advanced past the 8 entries, whose valid bytes were cleared.
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufGet), 8u);
  for (uint64_t k = 0; k < 8; ++k) {
    uint8_t valid = 0xFF;
    const uint64_t off = k * hmmsim::hwref::kFaultEntryBytes + 31;
    r.sys.phys.read(PhysMem::pfn_of(r.drv->fault_ring_pa()), off, &valid, 1);
    EXPECT_EQ(valid, 0) << k;
  }

  // One targeted invalidate covering the 8 new PTEs, before the replay.
  ASSERT_EQ(r.bus.tlb_log.size(), 1u);
  EXPECT_EQ(r.bus.tlb_log[0].va, Rig::va(0));
  EXPECT_EQ(r.bus.tlb_log[0].pages, 8u);
  EXPECT_EQ(s.s_tlb_invalidates, 1u);
  EXPECT_EQ(s.s_tlb_full_flushes, 0u);
  size_t inv = 0, rep = 0;
  for (size_t k = 0; k < r.bus.mmio_write_log.size(); ++k) {
    if (r.bus.mmio_write_log[k].first == bar0::kTlbInvTrigger) inv = k;
    if (r.bus.mmio_write_log[k].first == bar0::kReplay) rep = k;
  }
  EXPECT_LT(inv, rep);
  EXPECT_GT(r.lock.acquisitions, 0);
}

TEST(GpuDriver, ScatteredSourceFramesAreCopiedFaithfully) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 4);
  // Written in reverse, with a spacer frame: no two sources are adjacent
  // in ascending order, so no two H2D copies may be merged.
  const Pfn p2 = r.fill(2, 72);
  const Pfn spacer = r.sys.phys.alloc();
  const Pfn p1 = r.fill(1, 71);
  const Pfn p0 = r.fill(0, 70);
  ASSERT_NE(p1 + 1, p2);
  ASSERT_NE(p0 + 1, p1);
  for (uint16_t i = 0; i < 3; ++i) r.fault(i);
  r.drv->service_faults();
  EXPECT_EQ(r.bus.ce_log.size(), 3u);
  EXPECT_EQ(r.ce_bytes(CeDir::HostToDevice), 3 * P);
  for (uint8_t i = 0; i < 3; ++i) {
    const uint64_t e = r.bus.walk(Rig::va(i));
    ASSERT_TRUE(pt::pte_valid(e)) << int(i);
    EXPECT_EQ(r.vram_page(pt::address(e)), pattern(70 + i)) << int(i);
  }
  r.sys.phys.put(spacer);
}

TEST(GpuDriver, PageTableBytesFollowTheHardwareFormat) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 1);
  r.fault(0);
  r.drv->service_faults();
  // Walk by hand: each directory entry is a VRAM PDE; PD0 uses its
  // small-page half (offset +8), the big-page half stays zero.
  uint64_t table = r.bus.reg64(bar0::kPdbLo);
  for (unsigned level = 0; level < 4; ++level) {
    const uint64_t off = pt::index(level, Rig::va(0)) * pt::kLevel[level].entry_bytes;
    if (level == 3) {
      EXPECT_EQ(r.bus.vram_u64(table + off), 0u) << "big-page half of PD0";
    }
    const uint64_t pde = r.bus.vram_u64(table + pt::entry_offset(level, Rig::va(0)));
    ASSERT_EQ(pt::aperture(pde), pt::Aperture::Vram) << level;
    EXPECT_EQ(pde & 1, 0u) << "PDEs carry no valid bit";
    EXPECT_EQ(pde, pt::make_pde(pt::address(pde))) << level;
    table = pt::address(pde);
  }
  const uint64_t pte = r.bus.vram_u64(table + pt::entry_offset(4, Rig::va(0)));
  EXPECT_EQ(pte, r.bus.walk(Rig::va(0)));
  EXPECT_TRUE(pt::pte_valid(pte));
  // Every other entry of the fresh leaf table is zero, not VRAM garbage.
  for (uint64_t i = 0; i < 512; ++i) {
    if (i != pt::index(4, Rig::va(0))) {
      ASSERT_EQ(r.bus.vram_u64(table + i * 8), 0u) << i;
    }
  }
}

TEST(GpuDriver, DuplicateFaultsAreCoalesced) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 4);
  r.fill(1, 9);
  r.fault(0, AccessType::Read, 0);
  r.fault(0, AccessType::Read, 1);
  r.fault(1, AccessType::Read, 2);
  r.fault(0, AccessType::Write, 3);
  r.fault(1, AccessType::Prefetch, 4);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_faults_fetched, 5u);
  EXPECT_EQ(s.s_faults_duplicate, 3u);
  EXPECT_EQ(s.s_faults_serviced, 2u);
  EXPECT_EQ(s.s_pages_to_vram, 2u);
  EXPECT_EQ(s.s_bytes_h2d, P);
  EXPECT_EQ(s.s_replays, 1u);
  ASSERT_EQ(r.bus.tlb_log.size(), 1u);
  EXPECT_EQ(r.bus.tlb_log[0].va, Rig::va(0));
  EXPECT_EQ(r.bus.tlb_log[0].pages, 2u);
  EXPECT_EQ(r.vram_page(pt::address(r.bus.walk(Rig::va(1)))), pattern(9));
  EXPECT_EQ(r.bus.walk(Rig::va(2)), 0u);
}

TEST(GpuDriver, FaultOnUnmappedVaIsCancelled) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 2);
  ASSERT_EQ(r.mm->mmap_fixed(Rig::va(1024), P, kProtNone, VmaKind::AnonPrivate), Status::Ok);
  const uint64_t hole = kBase + 8 * kBlock + 3 * P;  // no VMA
  r.fault(0);
  ASSERT_TRUE(r.bus.push_fault(hole, AccessType::Read, 1));
  r.fault(1024);  // PROT_NONE
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  ASSERT_EQ(r.bus.cancel_log.size(), 2u);
  EXPECT_EQ(r.bus.cancel_log[0], Rig::va(1024));  // sorted by VA
  EXPECT_EQ(r.bus.cancel_log[1], hole);
  EXPECT_EQ(s.s_faults_fatal, 2u);
  EXPECT_EQ(s.s_faults_serviced, 1u);
  EXPECT_EQ(s.s_pages_to_vram, 1u);
  EXPECT_EQ(s.s_blocks, 3u);
  EXPECT_EQ(s.s_replays, 1u);
  EXPECT_EQ(r.bus.walk(hole), 0u);
  EXPECT_EQ(r.bus.walk(Rig::va(1024)), 0u);
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(0))));
  EXPECT_EQ(r.mm->pte(Rig::va(1024)).kind, PteKind::None);
}

TEST(GpuDriver, WriteFaultOnReadOnlyVmaIsCancelled) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 2, kProtRead);
  r.fault(0, AccessType::Write);
  r.fault(1, AccessType::Read);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  ASSERT_EQ(r.bus.cancel_log.size(), 1u);
  EXPECT_EQ(r.bus.cancel_log[0], Rig::va(0));
  EXPECT_EQ(s.s_faults_fatal, 1u);
  EXPECT_EQ(s.s_faults_serviced, 1u);
  EXPECT_EQ(s.s_pages_to_vram, 1u);  // page 0 was not touched at all
  EXPECT_EQ(r.bus.walk(Rig::va(0)), 0u);
  EXPECT_EQ(r.mm->pte(Rig::va(0)).kind, PteKind::None);
  const uint64_t e = r.bus.walk(Rig::va(1));
  ASSERT_TRUE(pt::pte_valid(e));
  EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram);
  EXPECT_FALSE(pt::pte_writable(e));
  EXPECT_EQ(e, pt::make_pte(pt::address(e), pt::Aperture::Vram, false));
  EXPECT_EQ(r.vram_page(pt::address(e)), kZeroPage);
  EXPECT_FALSE(r.mm->pte(Rig::va(1)).write);
  // Atomics count as writes, too.
  r.fault(1, AccessType::AtomicStrong);
  r.drv->service_faults();
  ASSERT_EQ(r.bus.cancel_log.size(), 2u);
  EXPECT_EQ(r.bus.cancel_log[1], Rig::va(1));
}

TEST(GpuDriver, CpuReadOfMigratedPageMigratesItBack) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  for (uint8_t i = 0; i < 4; ++i) r.fill(i, 20 + i);
  for (uint16_t i = 0; i < 6; ++i) r.fault(i);
  r.drv->service_faults();
  const uint64_t e2 = r.bus.walk(Rig::va(2));
  ASSERT_TRUE(pt::pte_valid(e2));
  const uint64_t vram_free = r.drv->vram().free_frames();
  const size_t tlb0 = r.bus.tlb_log.size();

  EXPECT_EQ(r.cpu_page(2), pattern(22));
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_pages_to_sysmem, 1u);
  EXPECT_EQ(s.s_bytes_d2h, P);
  EXPECT_EQ(s.s_pages_unmapped, 1u);
  EXPECT_EQ(r.mm->s_migrate_to_ram, 1u);
  EXPECT_EQ(r.bus.walk(Rig::va(2)), 0u);
  EXPECT_FALSE(r.drv->page_table().mapped(Rig::va(2)));
  ASSERT_EQ(r.bus.tlb_log.size(), tlb0 + 1);
  EXPECT_EQ(r.bus.tlb_log.back().va, Rig::va(2));
  EXPECT_EQ(r.bus.tlb_log.back().pages, 1u);
  const auto& ce = r.bus.ce_log.back();
  EXPECT_EQ(ce.dir, CeDir::DeviceToHost);
  EXPECT_EQ(ce.src, pt::address(e2));
  EXPECT_EQ(ce.len, P);
  const Pte c = r.mm->pte(Rig::va(2));
  EXPECT_EQ(c.kind, PteKind::Present);
  EXPECT_TRUE(c.write);
  EXPECT_EQ(ce.dst, PhysMem::pa(c.pfn));
  EXPECT_EQ(r.host_page(c.pfn), pattern(22));
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free + 1);  // the VRAM frame came back
  // The other pages stay on the GPU.
  for (uint64_t i : {0, 1, 3, 4, 5}) {
    EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(i)))) << i;
    EXPECT_EQ(r.mm->pte(Rig::va(i)).kind, PteKind::DevicePrivate) << i;
  }
  // A hole that lives in VRAM reads back as zeros.
  EXPECT_EQ(r.cpu_page(5), kZeroPage);
  EXPECT_EQ(r.drv->stats().s_pages_to_sysmem, 2u);
  EXPECT_EQ(r.bus.pending_irqs(hmmsim::hwref::kMsiVectorCopy), 0u);
}

TEST(GpuDriver, DataSurvivesRoundTripsBetweenCpuAndGpu) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 2);
  r.fill(0, 1);
  r.fault(0);
  r.drv->service_faults();
  // CPU write: migrates the page back, then stores.
  const uint8_t x = 0xC3;
  ASSERT_EQ(r.mm->cpu_write(Rig::va(0) + 123, &x, 1), Status::Ok);
  EXPECT_EQ(r.bus.walk(Rig::va(0)), 0u);
  auto want = pattern(1);
  want[123] = 0xC3;
  // GPU touches it again: back to VRAM with the new byte.
  r.fault(0, AccessType::Write);
  r.drv->service_faults();
  const uint64_t e = r.bus.walk(Rig::va(0));
  ASSERT_TRUE(pt::pte_valid(e));
  EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram);
  EXPECT_EQ(r.vram_page(pt::address(e)), want);
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 2u);
  EXPECT_EQ(r.drv->stats().s_pages_to_sysmem, 1u);
  EXPECT_EQ(r.drv->stats().s_bytes_h2d, 2 * P);
  EXPECT_EQ(r.cpu_page(0), want);
}

TEST(GpuDriver, MunmapClearsDevicePtes) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  r.map(512, 2);  // next 2 MiB block
  for (uint8_t i = 0; i < 4; ++i) r.fill(i, i);
  for (uint16_t i = 0; i < 4; ++i) r.fault(i);
  r.fault(512);
  r.fault(513);
  r.drv->service_faults();
  ASSERT_EQ(r.drv->stats().s_pages_to_vram, 6u);
  EXPECT_EQ(r.drv->stats().s_blocks, 2u);
  const uint64_t vram_free = r.drv->vram().free_frames();
  const size_t tlb0 = r.bus.tlb_log.size();

  ASSERT_EQ(r.mm->munmap(Rig::va(0), 8 * P), Status::Ok);
  for (uint64_t i = 0; i < 8; ++i) {
    EXPECT_EQ(r.bus.walk(Rig::va(i)), 0u) << i;
    EXPECT_FALSE(r.drv->page_table().mapped(Rig::va(i))) << i;
    EXPECT_EQ(r.mm->pte(Rig::va(i)).kind, PteKind::None) << i;
  }
  EXPECT_EQ(r.drv->stats().s_pages_unmapped, 4u);
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free + 4);
  ASSERT_EQ(r.bus.tlb_log.size(), tlb0 + 1);
  EXPECT_EQ(r.bus.tlb_log.back().va, Rig::va(0));
  EXPECT_EQ(r.bus.tlb_log.back().pages, 4u);
  EXPECT_EQ(r.drv->stats().s_pages_to_sysmem, 0u);  // unmapped data is not copied back
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(512))));
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(513))));
  // A fault on the now-unmapped range is fatal.
  r.fault(1);
  r.drv->service_faults();
  ASSERT_EQ(r.bus.cancel_log.size(), 1u);
  EXPECT_EQ(r.bus.cancel_log[0], Rig::va(1));
}

TEST(GpuDriver, FaultsAcrossBlocksAndRunsAreServicedSeparately) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 1024);  // two 2 MiB blocks in one VMA
  r.fault(600);
  r.fault(3);
  r.fault(1);
  r.fault(2);
  r.fault(601);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_blocks, 2u);
  EXPECT_EQ(s.s_faults_serviced, 5u);
  // Two runs: [1, 4) and [600, 602), sorted by VA.
  ASSERT_EQ(r.bus.tlb_log.size(), 2u);
  EXPECT_EQ(r.bus.tlb_log[0].va, Rig::va(1));
  EXPECT_EQ(r.bus.tlb_log[0].pages, 3u);
  EXPECT_EQ(r.bus.tlb_log[1].va, Rig::va(600));
  EXPECT_EQ(r.bus.tlb_log[1].pages, 2u);
  EXPECT_EQ(r.bus.walk(Rig::va(0)), 0u);
  EXPECT_EQ(r.bus.walk(Rig::va(4)), 0u);
}

TEST(GpuDriver, TooManyInvalidateRangesBecomeAFullFlush) {
  DriverSpec spec = unit_spec();
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 16);
  for (uint16_t i = 0; i < 10; i += 2) r.fault(i);  // 5 separate runs
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_tlb_full_flushes, 1u);
  EXPECT_EQ(r.drv->stats().s_tlb_invalidates, 1u);
  ASSERT_EQ(r.bus.tlb_log.size(), 1u);
  EXPECT_EQ(r.bus.tlb_log[0].pages, 0u);
  for (uint64_t i = 0; i < 10; i += 2) EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(i))));

  // Exactly tlb_inv_max_ranges (4) runs stay targeted.
  for (uint16_t i = 11; i < 16; i += 2) r.fault(i);  // 11, 13, 15
  r.fault(9);                                        // 4 runs: 9, 11, 13, 15
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_tlb_full_flushes, 1u);
  ASSERT_EQ(r.bus.tlb_log.size(), 5u);
  for (size_t k = 1; k < 5; ++k) {
    EXPECT_EQ(r.bus.tlb_log[k].pages, 1u);
    EXPECT_EQ(r.bus.tlb_log[k].va, Rig::va(9 + 2 * (k - 1)));
  }
}

// ---- fetch ----------------------------------------------------------------

TEST(GpuDriver, BatchesAndRingWrapAround) {
  DriverSpec spec = unit_spec();
  spec.fault_buffer_entries = 8;
  spec.batch_count = 3;
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 32);
  for (uint16_t i = 0; i < 7; ++i) r.fault(i);
  EXPECT_FALSE(r.bus.push_fault(Rig::va(7), AccessType::Read, 0)) << "ring of 8 holds 7";
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_batches, 3u);  // 3 + 3 + 1
  EXPECT_EQ(r.drv->stats().s_replays, 3u);
  EXPECT_EQ(r.bus.replays, 3u);
  EXPECT_EQ(r.drv->stats().s_faults_fetched, 7u);
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufGet), 7u);

  for (uint16_t i = 10; i < 17; ++i) r.fault(i);  // wraps: slots 7, 0..5
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_faults_fetched, 14u);
  EXPECT_EQ(r.drv->stats().s_batches, 6u);
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufGet), 14u % 8);
  EXPECT_EQ(r.drv->stats().s_interrupts, 2u);
  for (uint64_t i : {0, 6, 10, 13, 16}) EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(i)))) << i;
  EXPECT_EQ(r.bus.walk(Rig::va(7)), 0u);
  EXPECT_TRUE(r.bus.cancel_log.empty());
}

TEST(GpuDriver, MaxBatchesLeavesTheRestForTheNextInterrupt) {
  DriverSpec spec = unit_spec();
  spec.batch_count = 2;
  spec.max_batches = 2;
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  for (uint16_t i = 0; i < 6; ++i) r.fault(i);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_faults_fetched, 4u);
  EXPECT_EQ(r.drv->stats().s_batches, 2u);
  EXPECT_EQ(r.bus.walk(Rig::va(4)), 0u);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_faults_fetched, 6u);
  EXPECT_EQ(r.drv->stats().s_batches, 3u);
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(5))));
  // Nothing pending: no batch, but still one replay (UVM always replays:
  // faults the GMMU dropped are only retried on a replay).
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_batches, 3u);
  EXPECT_EQ(r.drv->stats().s_faults_fetched, 6u);
  EXPECT_EQ(r.bus.replays, 4u);
  EXPECT_EQ(r.drv->stats().s_replays, 4u);
}

TEST(GpuDriver, FetchStopsAtAnEntryThatHasNotLanded) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 4);
  r.fault(0);
  r.fault(1);
  r.fault(2);
  // Entry 1's valid byte has not reached memory yet.
  const Pfn ring = PhysMem::pfn_of(r.drv->fault_ring_pa());
  const uint8_t zero = 0, one = 1;
  r.sys.phys.write(ring, 1 * 32 + 31, &zero, 1);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_faults_fetched, 1u);
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufGet), 1u);
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(0))));
  EXPECT_EQ(r.bus.walk(Rig::va(2)), 0u);
  r.sys.phys.write(ring, 1 * 32 + 31, &one, 1);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_faults_fetched, 3u);
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufGet), 3u);
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(1))));
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(2))));
}

// ---- remote-map policy ----------------------------------------------------

TEST(GpuDriver, RemoteMapPolicyMapsSystemMemory) {
  DriverSpec spec = unit_spec();
  spec.placement.impl = "remote_map";
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  const Pfn p0 = r.fill(0, 1), p1 = r.fill(1, 2);
  uint8_t b;
  ASSERT_EQ(r.mm->cpu_read(Rig::va(2), &b, 1), Status::Ok);  // zero page
  const uint64_t vram_free0 = r.drv->vram().free_frames();
  r.fault(0);
  r.fault(1);
  r.fault(2);
  r.fault(3);                         // hole, read
  r.fault(4, AccessType::Write);      // hole, write
  r.fault(5, AccessType::Read, 0);    // hole: read then write from another SM:
  r.fault(5, AccessType::Write, 1);   // the strongest access must win
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_pages_to_vram, 0u);
  EXPECT_EQ(s.s_bytes_h2d, 0u);
  EXPECT_EQ(s.s_dma_commands, 0u);
  EXPECT_TRUE(r.bus.ce_log.empty());
  EXPECT_EQ(s.s_pages_mapped_remote, 6u);
  EXPECT_EQ(s.s_faults_serviced, 6u);
  EXPECT_EQ(s.s_faults_duplicate, 1u);
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free0 - 4);  // page tables only

  EXPECT_EQ(r.bus.walk(Rig::va(0)), pt::make_pte(PhysMem::pa(p0), pt::Aperture::SysCoherent, true));
  EXPECT_EQ(r.bus.walk(Rig::va(1)), pt::make_pte(PhysMem::pa(p1), pt::Aperture::SysCoherent, true));
  const uint64_t zero_pte = pt::make_pte(PhysMem::pa(0), pt::Aperture::SysCoherent, false);
  EXPECT_EQ(r.bus.walk(Rig::va(2)), zero_pte);
  EXPECT_EQ(r.bus.walk(Rig::va(3)), zero_pte);
  for (uint64_t i : {4, 5}) {
    const Pte c = r.mm->pte(Rig::va(i));
    ASSERT_EQ(c.kind, PteKind::Present) << i;
    EXPECT_NE(c.pfn, r.sys.phys.zero_pfn()) << i;
    EXPECT_TRUE(c.write) << i;
    EXPECT_EQ(r.bus.walk(Rig::va(i)), pt::make_pte(PhysMem::pa(c.pfn), pt::Aperture::SysCoherent, true))
        << i;
  }
  for (uint64_t i = 0; i < 6; ++i) EXPECT_EQ(r.mm->pte(Rig::va(i)).kind, PteKind::Present) << i;
  EXPECT_EQ(r.mm->pte(Rig::va(0)).pfn, p0);
  EXPECT_EQ(r.mm->pte(Rig::va(1)).pfn, p1);

  // A CPU write to the zero page (COW) replaces the page behind the device
  // mapping: the device PTE must go, with a TLB invalidate.
  const size_t tlb0 = r.bus.tlb_log.size();
  ASSERT_EQ(r.mm->cpu_write(Rig::va(2), &b, 1), Status::Ok);
  EXPECT_EQ(r.bus.walk(Rig::va(2)), 0u);
  ASSERT_EQ(r.bus.tlb_log.size(), tlb0 + 1);
  EXPECT_EQ(r.bus.tlb_log.back().va, Rig::va(2));
  EXPECT_EQ(r.bus.tlb_log.back().pages, 1u);
  EXPECT_EQ(r.bus.walk(Rig::va(3)), zero_pte);
  // A plain CPU store to a remotely mapped writable page keeps the mapping.
  ASSERT_EQ(r.mm->cpu_write(Rig::va(0), &b, 1), Status::Ok);
  EXPECT_EQ(r.bus.walk(Rig::va(0)), pt::make_pte(PhysMem::pa(p0), pt::Aperture::SysCoherent, true));
  EXPECT_EQ(r.mm->s_migrate_to_ram, 0u);
}
