// GPU driver: VRAM exhaustion, teardown, interrupts, ring overflow, retries,
// placement hints, dirty reporting, and sharing a process with an ODP device.
#include "gpu_driver_fixture.h"

// ---- VRAM exhaustion ------------------------------------------------------

TEST(GpuDriver, VramExhaustionLeavesPagesInSystemMemoryMappedRemotely) {
  // 8 frames: the root, then one fault builds the 4 tables of this block
  // and migrates its page, leaving 2 frames for data.
  Rig r(DriverSpec{}, 8 * P);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  Pfn src[6];
  for (uint8_t i = 0; i < 6; ++i) src[i] = r.fill(i, 60 + i);
  r.fault(0);
  r.drv->service_faults();
  ASSERT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(0))));
  ASSERT_EQ(r.drv->vram().free_frames(), 2u);

  for (uint16_t i = 1; i < 6; ++i) r.fault(i);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_pages_to_vram, 3u);
  EXPECT_EQ(s.s_vram_alloc_failures, 3u);
  EXPECT_EQ(s.s_pages_mapped_remote, 3u);
  EXPECT_EQ(s.s_faults_serviced, 6u);
  EXPECT_EQ(s.s_faults_fatal, 0u);
  EXPECT_EQ(s.s_bytes_h2d, 3 * P);
  EXPECT_EQ(r.drv->vram().free_frames(), 0u);
  EXPECT_TRUE(r.bus.cancel_log.empty());
  for (uint8_t i = 0; i < 3; ++i) {
    const uint64_t e = r.bus.walk(Rig::va(i));
    ASSERT_TRUE(pt::pte_valid(e)) << int(i);
    EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram) << int(i);
    EXPECT_EQ(r.vram_page(pt::address(e)), pattern(60 + i)) << int(i);
  }
  for (uint8_t i = 3; i < 6; ++i) {
    EXPECT_EQ(r.bus.walk(Rig::va(i)),
              pt::make_pte(PhysMem::pa(src[i]), pt::Aperture::SysCoherent, true))
        << int(i);
    const Pte c = r.mm->pte(Rig::va(i));
    EXPECT_EQ(c.kind, PteKind::Present) << int(i);
    EXPECT_EQ(c.pfn, src[i]) << int(i);
    EXPECT_EQ(r.sys.phys.refcount(src[i]), 1u) << int(i);
    EXPECT_EQ(r.host_page(src[i]), pattern(60 + i)) << int(i);
  }
  // Nothing lost: every page reads back intact from the CPU.
  for (uint8_t i = 0; i < 6; ++i) EXPECT_EQ(r.cpu_page(i), pattern(60 + i)) << int(i);
  EXPECT_EQ(r.drv->stats().s_pages_to_sysmem, 3u);
  EXPECT_EQ(r.drv->vram().free_frames(), 3u);
}

TEST(GpuDriver, VramExhaustedByDataBeforePageTablesAreBuilt) {
  // With 6 VRAM frames (root + 5 free), a first fault on 5 pages of a fresh
  // 2 MiB block migrates all 5 and leaves no frame for the 4 page tables
  // the mapping needs. Whatever the driver does, every fault it reports as
  // serviced must end with a valid device PTE (else the GPU refaults forever),
  // and no data may be lost.
  Rig r(DriverSpec{}, 6 * P);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  for (uint8_t i = 0; i < 5; ++i) r.fill(i, 80 + i);
  for (uint16_t i = 0; i < 5; ++i) r.fault(i);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  uint64_t valid = 0;
  for (uint16_t i = 0; i < 5; ++i) valid += pt::pte_valid(r.bus.walk(Rig::va(i))) ? 1 : 0;
  EXPECT_EQ(valid, s.s_faults_serviced);
  EXPECT_EQ(s.s_faults_serviced + s.s_faults_fatal, 5u);
  EXPECT_EQ(valid, 5u) << "pages should have been left in system memory and mapped remotely";
  for (uint8_t i = 0; i < 5; ++i) EXPECT_EQ(r.cpu_page(i), pattern(80 + i)) << int(i);
}

// ---- teardown -------------------------------------------------------------

TEST(GpuDriver, ReleaseUnmapsByWhatIsMappedAndEndsTheMirror) {
  // RELEASE covers [0, ~0): the callback must cost in proportion to what is
  // mapped (a page-by-page scan would take 2^37 steps), clear the device
  // PTEs, and stop mirroring the dead address space.
  HostSystem sys(256);
  FakeDeviceBus bus(sys.phys, 1 << 20);
  AddressSpace mm(sys);
  CheckingLock lock;
  GpuDriver drv(sys, bus, lock, DriverSpec{}, 1 << 20);
  ASSERT_EQ(drv.init(kMsi), Status::Ok);
  drv.attach(mm);
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_TRUE(bus.push_fault(kBase, AccessType::Read, 0));
  drv.service_faults();
  ASSERT_TRUE(pt::pte_valid(bus.walk(kBase)));
  const uint64_t vram_free = drv.vram().free_frames();
  EXPECT_EQ(mm.notifiers().size(), 1u);
  mm.notifiers().invalidate({0, ~0ull, NotifyEvent::Release, nullptr});
  EXPECT_EQ(bus.walk(kBase), 0u);
  EXPECT_EQ(drv.stats().s_pages_unmapped, 1u);
  EXPECT_EQ(mm.notifiers().size(), 0u);            // detached
  EXPECT_EQ(drv.vram().free_frames(), vram_free);  // RELEASE alone frees no page
  const uint64_t callbacks = drv.stats().s_invalidate_callbacks;
  ASSERT_EQ(mm.munmap(kBase, P), Status::Ok);       // the device page goes back...
  EXPECT_EQ(drv.vram().free_frames(), vram_free + 1);
  EXPECT_EQ(drv.stats().s_invalidate_callbacks, callbacks);  // ...without the mirror hearing of it
}

TEST(GpuDriver, ProcessExitWithPagesInVramReturnsThemToTheDriver) {
  // The process dies while one of its pages lives in VRAM: exit raises
  // RELEASE (the driver stops mirroring) and drops the device page, whose
  // VRAM frame returns to the still-loaded driver. The driver is destroyed
  // afterwards without touching the dead address space (ASan checks).
  HostSystem sys(256);
  FakeDeviceBus bus(sys.phys, 1 << 20);
  CheckingLock lock;
  auto drv = std::make_unique<GpuDriver>(sys, bus, lock, DriverSpec{}, 1 << 20);
  ASSERT_EQ(drv->init(kMsi), Status::Ok);
  const uint64_t vram_free_before = drv->vram().free_frames();
  uint64_t vram_free_mapped = 0;
  {
    AddressSpace mm(sys);
    drv->attach(mm);
    ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
    ASSERT_TRUE(bus.push_fault(kBase, AccessType::Write, 0));
    drv->service_faults();
    ASSERT_TRUE(pt::pte_valid(bus.walk(kBase)));
    ASSERT_EQ(mm.pte(kBase).kind, PteKind::DevicePrivate);
    vram_free_mapped = drv->vram().free_frames();
  }
  EXPECT_EQ(bus.walk(kBase), 0u);
  EXPECT_EQ(drv->vram().free_frames(), vram_free_mapped + 1);
  EXPECT_LT(vram_free_mapped + 1, vram_free_before + 1);  // page tables stay allocated
  drv.reset();
}

// ---- interrupts, overflow, retries, placement hints ------------------------

TEST(GpuDriver, FaultInterruptIsRearmedAndRefiresWhileEntriesRemain) {
  DriverSpec spec = unit_spec();
  spec.batch_count = 2;
  spec.max_batches = 1;
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  for (uint16_t i = 0; i < 5; ++i) r.fault(i);
  const uint32_t vf = hmmsim::hwref::kMsiVectorFault;
  EXPECT_EQ(r.bus.pending_irqs(vf), 1u) << "one MSI until the driver re-arms";
  uint64_t want_fetched = 0;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(r.bus.take_irq(vf)) << round;
    r.drv->service_faults();
    want_fetched = std::min<uint64_t>(want_fetched + 2, 5);
    EXPECT_EQ(r.drv->stats().s_faults_fetched, want_fetched) << round;
    EXPECT_EQ(r.bus.reg(bar0::kIntrStatus) & hmmsim::hwref::kIntrFault,
              round < 2 ? hmmsim::hwref::kIntrFault : 0u)
        << round;
    // Re-armed: fires again at once while entries remain, else stays quiet.
    EXPECT_EQ(r.bus.pending_irqs(vf), round < 2 ? 1u : 0u) << round;
  }
  EXPECT_EQ(r.drv->stats().s_replays, 3u);
  for (uint64_t i = 0; i < 5; ++i) EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(i)))) << i;
}

TEST(GpuDriver, RingOverflowIsClearedAndReplayed) {
  DriverSpec spec = unit_spec();
  spec.fault_buffer_entries = 4;
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  for (uint16_t i = 0; i < 3; ++i) r.fault(i);
  EXPECT_FALSE(r.bus.push_fault(Rig::va(3), AccessType::Read, 0));  // dropped
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufStatus) & 1, 1u);
  r.drv->service_faults();
  EXPECT_EQ(r.bus.reg(bar0::kFaultBufStatus) & 1, 0u);
  EXPECT_EQ(r.drv->stats().s_faults_fetched, 3u);
  EXPECT_EQ(r.bus.replays, 1u);
  EXPECT_EQ(r.bus.walk(Rig::va(3)), 0u);
  // The dropped access refaults after the replay and is serviced then.
  r.fault(3);
  r.drv->service_faults();
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(3))));
  EXPECT_EQ(r.bus.replays, 2u);
}

TEST(GpuDriver, RemoteWriteToZeroPageRetriesAfterItsOwnCow) {
  DriverSpec spec = unit_spec();
  spec.placement.impl = "remote_map";
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 2);
  r.fault(0);  // read: the zero page, read-only over PCIe
  r.drv->service_faults();
  const uint64_t zero_pte = pt::make_pte(0, pt::Aperture::SysCoherent, false);
  ASSERT_EQ(r.bus.walk(Rig::va(0)), zero_pte);
  EXPECT_EQ(r.drv->stats().s_range_fault_retries, 0u);

  r.fault(0, AccessType::Write);  // the GPU now writes it
  r.drv->service_faults();
  // hmm_range_fault's write fault breaks COW, whose CLEAR invalidates our
  // own interval (dropping the stale zero-page PTE): one retry, then success.
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_range_fault_retries, 1u);
  EXPECT_EQ(s.s_pages_unmapped, 1u);
  const Pte c = r.mm->pte(Rig::va(0));
  ASSERT_EQ(c.kind, PteKind::Present);
  EXPECT_NE(c.pfn, r.sys.phys.zero_pfn());
  EXPECT_TRUE(c.write);
  EXPECT_EQ(r.bus.walk(Rig::va(0)), pt::make_pte(PhysMem::pa(c.pfn), pt::Aperture::SysCoherent, true));
  EXPECT_EQ(s.s_faults_serviced, 2u);
  EXPECT_EQ(s.s_faults_fatal, 0u);
}

TEST(GpuDriver, PreferredHostRangesAreMappedRemotelyUnderMigratePolicy) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  Pfn src[8];
  for (uint8_t i = 0; i < 8; ++i) src[i] = r.fill(i, 90 + i);
  r.drv->set_preferred_host(Rig::va(2), Rig::va(5));
  EXPECT_FALSE(r.drv->prefers_host(Rig::va(2) - 1));
  EXPECT_TRUE(r.drv->prefers_host(Rig::va(2)));
  EXPECT_TRUE(r.drv->prefers_host(Rig::va(5) - 1));
  EXPECT_FALSE(r.drv->prefers_host(Rig::va(5)));
  for (uint16_t i = 0; i < 8; ++i) r.fault(i);
  r.drv->service_faults();
  const DriverStats& s = r.drv->stats();
  EXPECT_EQ(s.s_pages_to_vram, 5u);
  EXPECT_EQ(s.s_pages_mapped_remote, 3u);
  EXPECT_EQ(s.s_bytes_h2d, 5 * P);
  EXPECT_EQ(s.s_faults_serviced, 8u);
  for (uint8_t i = 0; i < 8; ++i) {
    const uint64_t e = r.bus.walk(Rig::va(i));
    ASSERT_TRUE(pt::pte_valid(e)) << int(i);
    if (i >= 2 && i < 5) {
      EXPECT_EQ(e, pt::make_pte(PhysMem::pa(src[i]), pt::Aperture::SysCoherent, true)) << int(i);
      EXPECT_EQ(r.mm->pte(Rig::va(i)).kind, PteKind::Present) << int(i);
    } else {
      EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram) << int(i);
      EXPECT_EQ(r.vram_page(pt::address(e)), pattern(90 + i)) << int(i);
    }
  }
  // Three runs split at the preference boundaries: [0,2) [2,5) [5,8).
  ASSERT_EQ(r.bus.tlb_log.size(), 3u);
  EXPECT_EQ(r.bus.tlb_log[0].va, Rig::va(0));
  EXPECT_EQ(r.bus.tlb_log[0].pages, 2u);
  EXPECT_EQ(r.bus.tlb_log[1].va, Rig::va(2));
  EXPECT_EQ(r.bus.tlb_log[1].pages, 3u);
  EXPECT_EQ(r.bus.tlb_log[2].va, Rig::va(5));
  EXPECT_EQ(r.bus.tlb_log[2].pages, 3u);
}

TEST(GpuDriver, NestedPreferredHostRangesStillCoverTheOuterRange) {
  // cudaMemAdvise-style hints may nest: advising [0, 8) then [2, 3) must
  // leave page 5 preferring the host. prefers_host() looks only at the range
  // with the greatest start <= va ([2, 3)) and answers false.
  Rig r;
  ASSERT_TRUE(r.start());
  r.drv->set_preferred_host(Rig::va(0), Rig::va(8));
  r.drv->set_preferred_host(Rig::va(2), Rig::va(3));
  for (uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(r.drv->prefers_host(Rig::va(i))) << i;
  EXPECT_FALSE(r.drv->prefers_host(Rig::va(8)));
}

TEST(GpuDriver, InvalidatingAWritableRemoteMappingMarksThePageDirty) {
  // DMA writes set no CPU dirty bit: the driver reports the pages it had
  // mapped writable before the mapping goes (the seeds' dirty-range helper).
  DriverSpec spec = unit_spec();
  spec.placement.impl = "remote_map";
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 4);
  r.fill(0, 1);
  r.fault(0, AccessType::Write);
  r.drv->service_faults();
  ASSERT_TRUE(pt::pte_writable(r.bus.walk(Rig::va(0))));
  Pte p = r.mm->pte(Rig::va(0));
  p.dirty = false;  // as if written back since
  r.mm->set_pte(Rig::va(0), p);
  ASSERT_EQ(r.mm->mprotect(Rig::va(0), P, kProtRead), Status::Ok);
  EXPECT_EQ(r.bus.walk(Rig::va(0)), 0u);
  EXPECT_TRUE(r.mm->pte(Rig::va(0)).dirty);  // the GPU may have written it
}

// ---- a GPU and an on-demand-paging device share one process ----------------

TEST(GpuDriver, SharesOneProcessWithAnOdpDevice) {
  // The seeds' two kinds of HMM users side by side: the GPU migrates pages
  // into its VRAM; a NIC without device memory (ODP) mirrors the same
  // address space. A NIC access to a page in VRAM faults it back through the
  // GPU driver's migrate_to_ram (data intact, GPU mapping dropped); a GPU
  // migration drops the NIC's entries (MIGRATE is not the NIC's own event).
  Rig r;
  ASSERT_TRUE(r.start());
  DmirrorDeviceSpec spec;
  spec.name = "nic0";
  spec.kind = DmirrorKind::Odp;
  DmirrorDevice nic(r.sys, spec);
  auto m = nic.open(*r.mm);
  r.map(0, 4);
  for (uint8_t i = 0; i < 4; ++i) r.fill(i, 40 + i);

  std::vector<uint8_t> buf;
  DmirrorResult res = m->run(DmirrorCmd::Read, Rig::va(0), 4, buf);
  ASSERT_EQ(res.status, Status::Ok);
  EXPECT_EQ(res.faults, 1u);
  EXPECT_EQ(m->page_table().size(), 4u);

  for (uint16_t i = 0; i < 4; ++i) r.fault(i, AccessType::Write);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 4u);
  EXPECT_EQ(r.mm->pte(Rig::va(2)).kind, PteKind::DevicePrivate);
  EXPECT_TRUE(m->page_table().empty());  // the GPU's MIGRATE event dropped the NIC's mirror

  res = m->run(DmirrorCmd::Read, Rig::va(1), 2, buf);  // pages 1 and 2 come home
  ASSERT_EQ(res.status, Status::Ok);
  EXPECT_EQ(res.faults, 1u);
  EXPECT_EQ(r.drv->stats().s_pages_to_sysmem, 2u);
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + P), pattern(41));
  EXPECT_EQ(std::vector<uint8_t>(buf.begin() + P, buf.end()), pattern(42));
  EXPECT_EQ(r.bus.walk(Rig::va(1)), 0u);  // the GPU lost those pages
  EXPECT_TRUE(pt::pte_valid(r.bus.walk(Rig::va(3))));
  EXPECT_EQ(r.mm->pte(Rig::va(3)).kind, PteKind::DevicePrivate);  // untouched by the NIC

  // A NIC write through its mirror lands in system memory the GPU will see.
  std::vector<uint8_t> w = pattern(99);
  res = m->run(DmirrorCmd::Write, Rig::va(1), 1, w);
  ASSERT_EQ(res.status, Status::Ok);
  EXPECT_EQ(r.cpu_page(1), pattern(99));
  m.reset();  // close before the device goes
}
