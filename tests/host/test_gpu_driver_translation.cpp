// GpuDriver and the translation hardware: VRAM chunks that let a fully
// migrated 64 KiB / 2 MiB range be mapped with one large PTE, TLB
// invalidates that carry the directory scope bit when a PD0 entry changed
// and wait for the device's acknowledgement, and atomics to system memory
// when the link cannot carry them (sysmem_atomics = false).
#include "gpu_driver_fixture.h"

namespace {

constexpr uint64_t k64K = 64ull << 10;
constexpr uint64_t k2M = 2ull << 20;
// kBase = 4 GiB: PD3 0, PD2 0, PD1 8, PD0 0. The first fault allocates
// PD2, PD1, PD0 and the PT at VRAM 0x1000..0x4000 (the root is at 0).
constexpr uint64_t kPd0 = 0x3000;
// Rig's VRAM (gpu_driver_fixture.h). Page tables take single frames from
// the bottom; chunks are aligned runs from the top, so the first 64 KiB
// chunk is the last 64 KiB of VRAM and the first 2 MiB chunk its last 2 MiB.
constexpr uint64_t kVram = 16ull << 20;
constexpr uint64_t kTop64K = kVram - (64ull << 10);
constexpr uint64_t kTop2M = kVram - (2ull << 20);

DriverSpec chunked(uint64_t chunk, const char* placement = "migrate") {
  DriverSpec s = unit_spec();
  s.vram_chunk_bytes = chunk;
  s.placement.impl = placement;
  return s;
}

std::vector<size_t> writes_to(const FakeDeviceBus& b, uint64_t off) {
  std::vector<size_t> v;
  for (size_t i = 0; i < b.mmio_write_log.size(); ++i)
    if (b.mmio_write_log[i].first == off) v.push_back(i);
  return v;
}

// Reads of kTlbInvAck made after write number `after` and before write
// number `before` (indices into mmio_write_log).
size_t ack_reads_between(const FakeDeviceBus& b, size_t after, size_t before) {
  size_t n = 0;
  for (const auto& r : b.mmio_read_log)
    if (r.offset == bar0::kTlbInvAck && r.writes_before > after && r.writes_before <= before) ++n;
  return n;
}

// The chunk size the driver gives the page at `va` of its VMA: a test of
// large pages must map a VMA that holds the whole aligned range.
uint64_t chunk_for(Rig& r, uint64_t va) {
  const Vma* vma = r.mm->find_vma(va);
  return vma ? r.drv->chunks().chunk_bytes_for(va, vma->start, vma->end) : 0;
}

}  // namespace

// ---- large pages from VRAM chunks -----------------------------------------

TEST(GpuDriverTranslation, Whole64KiBRangeIsMappedWithA64KiBPte) {
  Rig r(chunked(k64K));
  ASSERT_TRUE(r.start());
  ASSERT_EQ(r.drv->vram().total_frames() * P, kVram);
  r.map(0, 32);
  ASSERT_EQ(chunk_for(r, Rig::va(0)), k64K);
  for (uint8_t i = 0; i < 4; ++i) r.fill(i * 5, i);  // pages 0, 5, 10, 15 hold data
  for (uint16_t i = 0; i < 16; ++i) r.fault(i);
  r.drv->service_faults();

  // The chunk: the highest 64 KiB-aligned free run, the top of VRAM
  // (the tables sit at the bottom).
  EXPECT_EQ(r.drv->chunks().chunks(), 1u);
  EXPECT_EQ(r.drv->chunks().s_chunks_allocated, 1u);
  EXPECT_EQ(r.drv->chunks().s_fallback_frames, 0u);
  // PD0 word 0 links the 64 KiB table (the next frame, 0x5000); its entry 0
  // maps the chunk.
  EXPECT_EQ(r.bus.vram_u64(kPd0), pt::make_pde(0x5000));
  EXPECT_EQ(r.bus.vram_u64(kPd0 + 8), pt::make_pde(0x4000));
  EXPECT_EQ(r.bus.vram_u64(0x5000), pt::make_pte(kTop64K, pt::Aperture::Vram, true));
  for (unsigned g = 1; g < 32; ++g) EXPECT_EQ(r.bus.vram_u64(0x5000 + g * 8), 0u) << g;
  EXPECT_EQ(r.drv->page_table().big_mapped_in(kBase, kBase + k2M), 16u);
  EXPECT_EQ(r.drv->page_table().huge_mapped_in(kBase, kBase + k2M), 0u);
  for (uint64_t i = 0; i < 16; ++i) {
    const auto w = r.bus.walk_info(Rig::va(i));
    EXPECT_EQ(w.shift, 16u) << i;
    EXPECT_EQ(w.pa, kTop64K + i * P) << i;
    EXPECT_EQ(w.reads, 5u) << i;
    EXPECT_EQ(r.mm->pte(Rig::va(i)).pfn, r.devpfn(kTop64K + i * P)) << i;
    EXPECT_EQ(r.vram_page(w.pa), i % 5 == 0 ? pattern(uint8_t(i / 5)) : kZeroPage) << i;
  }
  // The zero fill and the copies ran straight into the chunk.
  EXPECT_EQ(r.ce_bytes(CeDir::HostToDevice) + r.ce_bytes(CeDir::FillZero), 16 * P);

  // One invalidate, with the directory scope: PD0 word 0 changed.
  ASSERT_EQ(r.bus.tlb_log.size(), 1u);
  EXPECT_EQ(r.bus.tlb_log[0].va, kBase);
  EXPECT_EQ(r.bus.tlb_log[0].pages, 16u);
  EXPECT_TRUE(r.bus.tlb_log[0].directories);
  const auto scope = writes_to(r.bus, bar0::kTlbInvScope);
  const auto trig = writes_to(r.bus, bar0::kTlbInvTrigger);
  const auto replay = writes_to(r.bus, bar0::kReplay);
  ASSERT_EQ(scope.size(), 1u);
  ASSERT_EQ(trig.size(), 1u);
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(r.bus.mmio_write_log[scope[0]].second, hmmsim::hwref::kTlbInvDirectories);
  EXPECT_LT(scope[0], trig[0]);
  EXPECT_GE(ack_reads_between(r.bus, trig[0], replay[0]), 1u) << "replayed before the acknowledgement";
}

TEST(GpuDriverTranslation, SecondGroupNeedsNoDirectoryScope) {
  Rig r(chunked(k64K));
  ASSERT_TRUE(r.start());
  r.map(0, 64);
  ASSERT_EQ(chunk_for(r, Rig::va(16)), k64K);
  for (uint16_t i = 0; i < 16; ++i) r.fault(i);
  r.drv->service_faults();
  ASSERT_TRUE(r.bus.tlb_log.back().directories);
  for (uint16_t i = 16; i < 32; ++i) r.fault(i);
  r.drv->service_faults();
  // The second chunk is the next run down from the top.
  EXPECT_EQ(r.bus.vram_u64(0x5000 + 8), pt::make_pte(kTop64K - k64K, pt::Aperture::Vram, true));
  ASSERT_EQ(r.bus.tlb_log.size(), 2u);
  EXPECT_FALSE(r.bus.tlb_log[1].directories) << "only a PT64 entry changed";
  // The scope register went back to 0 before that trigger.
  const auto scope = writes_to(r.bus, bar0::kTlbInvScope);
  const auto trig = writes_to(r.bus, bar0::kTlbInvTrigger);
  ASSERT_EQ(scope.size(), 2u);
  EXPECT_EQ(r.bus.mmio_write_log[scope[1]].second, 0u);
  EXPECT_LT(scope[1], trig[1]);
  EXPECT_GT(scope[1], trig[0]);
  // Another plain invalidate: the scope is not rewritten.
  r.fault(40);
  r.drv->service_faults();
  EXPECT_EQ(writes_to(r.bus, bar0::kTlbInvScope).size(), 2u);
  EXPECT_FALSE(r.bus.tlb_log.back().directories);
  EXPECT_EQ(r.drv->page_table().big_mapped_in(kBase, kBase + k2M), 32u);
}

TEST(GpuDriverTranslation, HalfAGroupStays4KiBUntilTheRestArrives) {
  Rig r(chunked(k64K));
  ASSERT_TRUE(r.start());
  r.map(0, 16);  // exactly one aligned 64 KiB range: its chunk stays 64 KiB
  ASSERT_EQ(chunk_for(r, Rig::va(0)), k64K);
  for (uint16_t i = 0; i < 16; i += 2) r.fault(i);  // even pages
  r.drv->service_faults();
  EXPECT_EQ(r.bus.vram_u64(kPd0), 0u) << "no 64 KiB table yet";
  for (uint64_t i = 0; i < 16; i += 2) {
    const auto w = r.bus.walk_info(Rig::va(i));
    EXPECT_EQ(w.shift, 12u) << i;
    EXPECT_EQ(w.pa, kTop64K + i * P) << "page at its VA offset in the chunk";
  }
  for (const auto& t : r.bus.tlb_log) EXPECT_FALSE(t.directories);
  EXPECT_EQ(r.drv->vram().free_frames(), r.drv->vram().total_frames() - 5 - 16);
  const size_t tlb0 = r.bus.tlb_log.size();
  for (uint16_t i = 1; i < 16; i += 2) r.fault(i);
  r.drv->service_faults();
  EXPECT_EQ(r.bus.walk_info(Rig::va(3)).shift, 16u);
  EXPECT_EQ(r.bus.walk_info(Rig::va(3)).pa, kTop64K + 3 * P);
  ASSERT_GT(r.bus.tlb_log.size(), tlb0);
  EXPECT_TRUE(r.bus.tlb_log.back().directories);
  EXPECT_EQ(r.drv->vram().free_frames(), r.drv->vram().total_frames() - 5 - 16 - 1);
}

TEST(GpuDriverTranslation, Whole2MiBRangeIsMappedWithA2MiBPte) {
  Rig r(chunked(k2M));
  ASSERT_TRUE(r.start());
  ASSERT_EQ(r.drv->vram().total_frames() * P, kVram);
  r.map(0, 1024);
  ASSERT_EQ(chunk_for(r, Rig::va(0)), k2M);
  r.fill(7, 7);
  r.fill(300, 30);
  EXPECT_EQ(r.drv->prefetch_to_device(kBase, kBase + k2M), 512u);

  // Chunk at the top 2 MiB of VRAM (the tables are at the bottom); the
  // 2 MiB PTE sits in PD0 word 0.
  EXPECT_EQ(r.bus.vram_u64(kPd0), pt::make_pte(kTop2M, pt::Aperture::Vram, true));
  for (unsigned g = 0; g < 32; ++g)
    EXPECT_EQ(r.bus.vram_u64(0x5000 + g * 8), pt::make_pte(kTop2M + g * k64K, pt::Aperture::Vram, true)) << g;
  EXPECT_EQ(r.drv->page_table().huge_mapped_in(kBase, kBase + k2M), 512u);
  for (uint64_t i : {0, 7, 300, 511}) {
    const auto w = r.bus.walk_info(Rig::va(i));
    EXPECT_EQ(w.shift, 21u) << i;
    EXPECT_EQ(w.pa, kTop2M + i * P) << i;
    EXPECT_EQ(w.reads, 4u) << i;
  }
  EXPECT_EQ(r.vram_page(kTop2M + 7 * P), pattern(7));
  EXPECT_EQ(r.vram_page(kTop2M + 300 * P), pattern(30));
  EXPECT_EQ(r.vram_page(kTop2M + 8 * P), kZeroPage);
  ASSERT_EQ(r.bus.tlb_log.size(), 1u);
  EXPECT_EQ(r.bus.tlb_log[0].va, kBase);
  EXPECT_EQ(r.bus.tlb_log[0].pages, 512u);
  EXPECT_TRUE(r.bus.tlb_log[0].directories);
  const uint64_t vram_free = r.drv->vram().free_frames();

  // The CPU takes page 7 back: the 2 MiB PTE goes, PD0 links the table again.
  EXPECT_EQ(r.cpu_page(7), pattern(7));
  EXPECT_EQ(r.bus.vram_u64(kPd0), pt::make_pde(0x5000));
  EXPECT_EQ(r.bus.walk(Rig::va(7)), 0u);
  EXPECT_EQ(r.bus.walk_info(Rig::va(8)).shift, 12u);
  EXPECT_EQ(r.bus.walk_info(Rig::va(8)).reads, 6u);
  EXPECT_EQ(r.bus.walk_info(Rig::va(16)).shift, 16u);
  ASSERT_EQ(r.bus.tlb_log.size(), 2u);
  EXPECT_EQ(r.bus.tlb_log[1].va, Rig::va(7));
  EXPECT_EQ(r.bus.tlb_log[1].pages, 1u);
  EXPECT_TRUE(r.bus.tlb_log[1].directories);
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free) << "the chunk stays while 511 pages live in it";

  // The GPU wants it again: same slot, 2 MiB PTE again.
  r.fault(7, AccessType::Write);
  r.drv->service_faults();
  EXPECT_EQ(r.bus.walk_info(Rig::va(7)).shift, 21u);
  EXPECT_EQ(r.bus.walk_info(Rig::va(7)).pa, kTop2M + 7 * P);
  EXPECT_TRUE(r.bus.tlb_log.back().directories);
  EXPECT_EQ(r.drv->chunks().s_fallback_frames, 0u);

  // munmap: every page leaves, the chunk goes back whole.
  ASSERT_EQ(r.mm->munmap(kBase, k2M), Status::Ok);
  EXPECT_EQ(r.drv->vram().free_frames(), vram_free + 512);
  EXPECT_EQ(r.drv->chunks().chunks(), 0u);
  EXPECT_EQ(r.bus.vram_u64(kPd0), pt::make_pde(0x5000));
  EXPECT_EQ(r.drv->page_table().big_mapped_in(kBase, kBase + k2M), 0u);
  EXPECT_TRUE(r.bus.tlb_log.back().directories);
}

TEST(GpuDriverTranslation, FourKiBChunksKeepTheOldPlacement) {
  Rig r;  // default vram_chunk_bytes = 4 KiB
  ASSERT_TRUE(r.start());
  r.map(0, 16);
  for (uint16_t i = 0; i < 16; ++i) r.fault(i);
  r.drv->service_faults();
  // Frames 5..20: lowest first, not 64 KiB aligned, so no large PTE.
  for (uint64_t i = 0; i < 16; ++i) EXPECT_EQ(r.bus.walk_info(Rig::va(i)).pa, (5 + i) * P) << i;
  EXPECT_EQ(r.bus.vram_u64(kPd0), 0u);
  EXPECT_EQ(r.drv->chunks().chunks(), 0u);
  EXPECT_FALSE(r.bus.tlb_log.back().directories);
  EXPECT_TRUE(writes_to(r.bus, bar0::kTlbInvScope).empty()) << "scope stays 0: never written";
}

// VRAM full of other blocks' 2 MiB chunks: a fault in a new block evicts a
// whole victim block, whose chunk goes back whole, and takes a 2 MiB chunk
// there, not a 64 KiB piece or a lone frame from the free frames left
// between the page tables (GpuDriver::frame_for asks Fit::Chunk first).
TEST(GpuDriverTranslation, FullVramEvictsAVictimBlockForAWholeChunk) {
  constexpr uint64_t kSmallVram = 4 * k2M;  // region 0: tables; 1..3: chunks
  Rig r(chunked(k2M), kSmallVram);
  ASSERT_TRUE(r.start());
  r.map(0, 4 * 512);  // four whole 2 MiB blocks
  ASSERT_EQ(chunk_for(r, Rig::va(3 * 512)), k2M);
  for (uint8_t i = 0; i < 3; ++i) r.fill(i, 40 + i);
  // Blocks A, B, C in turn: chunks from the top down, regions 3, 2, 1.
  for (uint16_t i = 0; i < 3; ++i) r.fault(i);
  r.drv->service_faults();
  r.fault(512 + 9);
  r.drv->service_faults();
  r.fault(1024 + 20);
  r.drv->service_faults();
  const VramChunks& c = r.drv->chunks();
  ASSERT_EQ(c.s_chunks_allocated, 3u);
  ASSERT_EQ(r.bus.walk_info(Rig::va(1)).pa, 3 * k2M + 1 * P);
  ASSERT_EQ(r.bus.walk_info(Rig::va(512 + 9)).pa, 2 * k2M + 9 * P);
  ASSERT_EQ(r.bus.walk_info(Rig::va(1024 + 20)).pa, 1 * k2M + 20 * P);
  ASSERT_EQ(r.drv->stats().s_evictions, 0u);
  // Less than two chunks' worth is free, and none of it is a whole region.
  ASSERT_LT(r.drv->vram().free_frames(), 2 * 512u);

  // Block D: the first block to come in (A, FIFO) goes out, all three pages.
  r.fault(1536 + 7, AccessType::Write);
  r.drv->service_faults();
  EXPECT_EQ(r.drv->stats().s_evictions, 1u);
  EXPECT_EQ(r.drv->stats().s_pages_evicted, 3u);
  EXPECT_EQ(c.s_chunks_allocated, 4u);
  EXPECT_EQ(c.s_pieces_allocated, 0u);
  EXPECT_EQ(c.s_fallback_frames, 0u);
  EXPECT_EQ(c.chunks(), 3u);  // B, C, D
  EXPECT_EQ(r.drv->stats().s_vram_alloc_failures, 0u);
  // D's page sits at its offset in A's old chunk, the highest free run.
  const auto w = r.bus.walk_info(Rig::va(1536 + 7));
  EXPECT_EQ(w.pa, 3 * k2M + 7 * P);
  EXPECT_EQ(r.mm->pte(Rig::va(1536 + 7)).kind, PteKind::DevicePrivate);
  // A is back in system memory, intact; B and C stayed.
  for (uint8_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.bus.walk(Rig::va(i)), 0u) << int(i);
    EXPECT_EQ(r.mm->pte(Rig::va(i)).kind, PteKind::Present) << int(i);
    EXPECT_EQ(r.cpu_page(i), pattern(40 + i)) << int(i);
  }
  EXPECT_EQ(r.bus.walk_info(Rig::va(512 + 9)).pa, 2 * k2M + 9 * P);
  EXPECT_EQ(r.bus.walk_info(Rig::va(1024 + 20)).pa, 1 * k2M + 20 * P);
}

// Blocks serviced in the current batch or the two before it are not evicted
// for a chunk: a read of a fourth block then stays remote. An atomic the
// link cannot carry must be local, so it evicts one of them after all.
TEST(GpuDriverTranslation, RecentBlocksAreSparedUnlessThePageMustBeLocal) {
  for (bool atomic : {false, true}) {
    SCOPED_TRACE(atomic ? "atomic" : "read");
    DriverSpec spec = chunked(k2M);
    spec.sysmem_atomics = false;
    Rig r(spec, 4 * k2M);  // region 0: tables; 1..3: chunks
    ASSERT_TRUE(r.start());
    r.map(0, 6 * 512);  // blocks A, B, C, D, E, F
    // One batch: A, B and C take the three chunks; D, E and F, finding no
    // chunk and no victim outside the batch, take the rest of region 0 as
    // 64 KiB pieces and lone frames until VRAM is full (D's page tables
    // come first, so that D needs no table later).
    for (uint16_t b = 0; b < 4; ++b) r.fault(b * 512);
    for (uint16_t k = 0; k < 32; ++k) {
      r.fault(4 * 512 + 16 * k);
      r.fault(5 * 512 + 16 * k);
    }
    r.drv->service_faults();
    ASSERT_EQ(r.drv->chunks().s_chunks_allocated, 3u);
    ASSERT_GT(r.drv->chunks().s_pieces_allocated, 0u);
    ASSERT_EQ(r.drv->vram().free_frames(), 0u);
    ASSERT_EQ(r.drv->stats().s_evictions, 0u);
    const uint64_t remote_before = r.drv->stats().s_refault_no_evict;
    // Another 64 KiB range of D in the next batch: every block with VRAM
    // was serviced one batch ago.
    const uint64_t d = 3 * 512 + 80 + 3;
    r.fault(d, atomic ? AccessType::AtomicWeak : AccessType::Read);
    r.drv->service_faults();
    const DriverStats& s = r.drv->stats();
    EXPECT_TRUE(r.bus.cancel_log.empty());
    if (!atomic) {
      EXPECT_EQ(s.s_evictions, 0u);
      EXPECT_EQ(s.s_refault_no_evict, remote_before + 1);
      EXPECT_EQ(r.mm->pte(Rig::va(d)).kind, PteKind::Present);  // still in system memory
      EXPECT_EQ(pt::aperture(r.bus.walk(Rig::va(d))), pt::Aperture::SysCoherent);
    } else {
      EXPECT_GE(s.s_evictions, 1u);
      EXPECT_EQ(r.mm->pte(Rig::va(d)).kind, PteKind::DevicePrivate);
      EXPECT_EQ(pt::aperture(r.bus.walk(Rig::va(d))), pt::Aperture::Vram);
    }
  }
}

// ---- invalidate acknowledgement ---------------------------------------------

TEST(GpuDriverTranslation, DriverWaitsForTheAcknowledgementOfItsLastInvalidate) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 16);
  r.bus.tlb_ack_lag_reads = 3;
  r.fault(0);
  r.fault(1);
  r.fault(5);  // two runs: two triggers, one wait
  r.drv->service_faults();
  const auto trig = writes_to(r.bus, bar0::kTlbInvTrigger);
  const auto replay = writes_to(r.bus, bar0::kReplay);
  ASSERT_EQ(trig.size(), 2u);
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(ack_reads_between(r.bus, 0, trig[1]), 0u) << "no polling between the triggers";
  EXPECT_EQ(ack_reads_between(r.bus, trig[1], replay[0]), 4u) << "3 stale answers, then the number";
  EXPECT_EQ(r.drv->stats().s_tlb_ack_polls, 3u);
  EXPECT_EQ(r.bus.reg(bar0::kTlbInvAck), 2u);

  // The CPU side waits too (munmap -> notifier -> invalidate).
  ASSERT_EQ(r.mm->munmap(Rig::va(0), 2 * P), Status::Ok);
  const auto trig2 = writes_to(r.bus, bar0::kTlbInvTrigger);
  ASSERT_EQ(trig2.size(), 3u);
  EXPECT_EQ(ack_reads_between(r.bus, trig2[2], r.bus.mmio_write_log.size()), 4u);
  EXPECT_EQ(r.drv->stats().s_tlb_ack_polls, 6u);
  EXPECT_EQ(r.bus.reg(bar0::kTlbInvAck), 3u);
}

TEST(GpuDriverTranslation, ImmediateAcknowledgementNeedsOneRead) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 16);
  for (uint16_t i = 0; i < 10; i += 2) r.fault(i);  // 5 runs: a full flush
  r.drv->service_faults();
  const auto trig = writes_to(r.bus, bar0::kTlbInvTrigger);
  const auto replay = writes_to(r.bus, bar0::kReplay);
  ASSERT_EQ(trig.size(), 1u);
  EXPECT_EQ(r.bus.tlb_log[0].pages, 0u);
  EXPECT_EQ(ack_reads_between(r.bus, trig[0], replay[0]), 1u);
  EXPECT_EQ(r.drv->stats().s_tlb_ack_polls, 0u);
}

// ---- atomics to system memory -------------------------------------------------

TEST(GpuDriverTranslation, WithoutSysmemAtomicsRemoteMappingsAreAtomicDisabled) {
  DriverSpec spec = chunked(P, "remote_map");
  spec.sysmem_atomics = false;
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  const Pfn p0 = r.fill(0, 1), p1 = r.fill(1, 2);
  r.fault(0);
  r.fault(1, AccessType::Write);
  r.fault(3);  // hole: the zero page
  r.drv->service_faults();
  EXPECT_EQ(r.bus.walk(Rig::va(0)), pt::make_pte(PhysMem::pa(p0), pt::Aperture::SysCoherent, true, false));
  EXPECT_EQ(r.bus.walk(Rig::va(1)), pt::make_pte(PhysMem::pa(p1), pt::Aperture::SysCoherent, true, false));
  EXPECT_EQ(r.bus.walk(Rig::va(3)), pt::make_pte(0, pt::Aperture::SysCoherent, false, false));
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 0u);

  // An atomic on page 0 faults (atomic-disabled): the page moves to VRAM.
  r.fault(0, AccessType::AtomicStrong);
  r.drv->service_faults();
  const uint64_t e = r.bus.walk(Rig::va(0));
  ASSERT_TRUE(pt::pte_valid(e));
  EXPECT_EQ(pt::aperture(e), pt::Aperture::Vram);
  EXPECT_EQ(e, pt::make_pte(pt::address(e), pt::Aperture::Vram, true, true));
  EXPECT_EQ(r.vram_page(pt::address(e)), pattern(1));
  EXPECT_EQ(r.mm->pte(Rig::va(0)).kind, PteKind::DevicePrivate);
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 1u);
  EXPECT_FALSE(r.sys.phys.valid(p0));
  // Page 1 stays remote.
  EXPECT_EQ(r.bus.walk(Rig::va(1)), pt::make_pte(PhysMem::pa(p1), pt::Aperture::SysCoherent, true, false));
  // A weak atomic counts as well.
  r.fault(1, AccessType::AtomicWeak);
  r.drv->service_faults();
  EXPECT_EQ(pt::aperture(r.bus.walk(Rig::va(1))), pt::Aperture::Vram);
  EXPECT_EQ(r.vram_page(pt::address(r.bus.walk(Rig::va(1)))), pattern(2));
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 2u);
  EXPECT_TRUE(r.bus.cancel_log.empty());
}

TEST(GpuDriverTranslation, WithSysmemAtomicsAnAtomicIsMappedRemote) {
  DriverSpec spec = chunked(P, "remote_map");
  spec.sysmem_atomics = true;
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 4);
  const Pfn p0 = r.fill(0, 1);
  r.fault(0, AccessType::AtomicStrong);
  r.fault(1, AccessType::AtomicWeak);  // hole: gets a fresh writable frame
  r.drv->service_faults();
  EXPECT_EQ(r.bus.walk(Rig::va(0)), pt::make_pte(PhysMem::pa(p0), pt::Aperture::SysCoherent, true, true));
  const Pte c1 = r.mm->pte(Rig::va(1));
  ASSERT_EQ(c1.kind, PteKind::Present);
  EXPECT_EQ(r.bus.walk(Rig::va(1)), pt::make_pte(PhysMem::pa(c1.pfn), pt::Aperture::SysCoherent, true, true));
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 0u);
  EXPECT_EQ(r.drv->stats().s_pages_mapped_remote, 2u);
  EXPECT_TRUE(r.bus.ce_log.empty());
}

TEST(GpuDriverTranslation, AtomicOverridesAHostPreferredLocation) {
  DriverSpec spec = unit_spec();  // Migrate policy
  spec.sysmem_atomics = false;
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  r.drv->set_preferred_host(Rig::va(0), Rig::va(4));
  const Pfn p0 = r.fill(0, 1);
  r.fill(1, 2);
  r.fault(0);
  r.fault(1, AccessType::AtomicWeak);
  r.fault(5);  // outside the preferred range: migrated as usual
  r.drv->service_faults();
  EXPECT_EQ(r.bus.walk(Rig::va(0)), pt::make_pte(PhysMem::pa(p0), pt::Aperture::SysCoherent, true, false));
  const uint64_t e1 = r.bus.walk(Rig::va(1));
  EXPECT_EQ(pt::aperture(e1), pt::Aperture::Vram);
  EXPECT_TRUE(pt::pte_atomic(e1));
  EXPECT_EQ(r.vram_page(pt::address(e1)), pattern(2));
  EXPECT_EQ(pt::aperture(r.bus.walk(Rig::va(5))), pt::Aperture::Vram);
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 2u);
}

TEST(GpuDriverTranslation, OnlyTheAtomicPagesOfARunMigrate) {
  DriverSpec spec = chunked(P, "remote_map");
  spec.sysmem_atomics = false;
  Rig r(spec);
  ASSERT_TRUE(r.start());
  r.map(0, 8);
  Pfn p[4];
  for (uint8_t i = 0; i < 4; ++i) p[i] = r.fill(i, i);
  // One batch, four consecutive pages; only page 2 needs atomics.
  r.fault(0);
  r.fault(1, AccessType::Write);
  r.fault(2, AccessType::AtomicStrong);
  r.fault(3);
  r.drv->service_faults();
  for (uint64_t i : {0, 1, 3})
    EXPECT_EQ(r.bus.walk(Rig::va(i)), pt::make_pte(PhysMem::pa(p[i]), pt::Aperture::SysCoherent, true, false))
        << i;
  const uint64_t e2 = r.bus.walk(Rig::va(2));
  EXPECT_EQ(pt::aperture(e2), pt::Aperture::Vram);
  EXPECT_EQ(r.vram_page(pt::address(e2)), pattern(2));
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 1u);
  EXPECT_EQ(r.drv->stats().s_pages_mapped_remote, 3u);
  EXPECT_EQ(r.drv->stats().s_faults_serviced, 4u);
}

// An atomic the link cannot carry, with no VRAM frame to move the page to:
// the driver cancels it (a fatal fault the run reports) instead of mapping
// it remote again, atomic-disabled, to refault on every replay.
TEST(GpuDriverTranslation, AtomicWithNoVramLeftIsCancelledNotRemapped) {
  DriverSpec spec = unit_spec();
  spec.sysmem_atomics = false;
  spec.placement.impl = "remote_map";
  // Just enough VRAM for the page-table levels: no data frame is left.
  Rig r(spec, 5 * P);
  ASSERT_TRUE(r.start());
  r.map(0, 4);
  r.fill(0, 1);
  r.fault(0, AccessType::AtomicStrong);
  r.drv->service_faults();
  EXPECT_GT(r.drv->stats().s_vram_alloc_failures, 0u);
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 0u);
  ASSERT_EQ(r.bus.cancel_log.size(), 1u);
  EXPECT_EQ(r.bus.cancel_log[0], Rig::va(0));
  EXPECT_EQ(r.bus.walk(Rig::va(0)), 0u);  // not mapped at all
}

// A fault that raced its own mapping (the page is mapped with what it needs
// by the time the driver gets to it) writes no PTE and invalidates nothing:
// only the replay remains.
TEST(GpuDriverTranslation, PageAlreadyMappedJustSoIsLeftAlone) {
  Rig r;
  ASSERT_TRUE(r.start());
  r.map(0, 4);
  r.fill(0, 1);
  r.fault(0);
  r.drv->service_faults();
  const uint64_t pte = r.bus.walk(Rig::va(0));
  ASSERT_EQ(pt::aperture(pte), pt::Aperture::Vram);
  const uint64_t writes = r.drv->page_table().s_pte_writes;
  const size_t invalidates = r.bus.tlb_log.size();
  r.fault(0);  // the same page again, already in VRAM and mapped
  r.drv->service_faults();
  EXPECT_EQ(r.bus.walk(Rig::va(0)), pte);
  EXPECT_EQ(r.drv->page_table().s_pte_writes, writes);
  EXPECT_EQ(r.bus.tlb_log.size(), invalidates);
  EXPECT_EQ(r.drv->stats().s_faults_already_mapped, 1u);
  EXPECT_EQ(r.drv->stats().s_pages_to_vram, 1u);
  EXPECT_EQ(r.bus.replays, 2u);
}
