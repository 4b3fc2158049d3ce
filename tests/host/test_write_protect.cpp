// AddressSpace::write_protect (change_protection for a driver that keeps a
// copy of private pages, as read duplication does): PROTECTION_PAGE with the
// caller as owner before any entry changes, present entries made read-only,
// the CPU's next write copying a page it does not own alone (CLEAR) and
// reusing one it does, and the ranges it refuses.
#include "mm_ops_fixture.h"

namespace {

class MmOpsWriteProtect : public MmOpsTest {};

// Records, at the moment each notifier call arrives, whether the entries of
// the event's range were still writable: the event must come first.
struct PteProbe : IMmuIntervalNotifierOps {
  explicit PteProbe(AddressSpace& m) : mm(m), n(0, ~0ull, this) { mm.notifiers().insert(&n); }
  ~PteProbe() override { mm.notifiers().remove(&n); }
  PteProbe(const PteProbe&) = delete;
  PteProbe& operator=(const PteProbe&) = delete;
  bool invalidate(MmuIntervalNotifier& nn, const NotifierRange& r, uint64_t seq) override {
    Seen s{r.event, r.owner, 0, 0};
    for (const auto& [va, p] : mm.entries(r.start, r.end)) {
      ++s.present;
      if (p.write) ++s.writable;
    }
    seen.push_back(s);
    nn.set_seq(seq);
    return true;
  }
  struct Seen {
    NotifyEvent event;
    const void* owner;
    int present, writable;
  };
  AddressSpace& mm;
  MmuIntervalNotifier n;
  std::vector<Seen> seen;
};

}  // namespace

TEST_F(MmOpsWriteProtect, RaisesProtectionPageWithOwnerBeforeEntriesChange) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 8 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  for (uint32_t i = 0; i < 8; ++i) {
    if (i != 3) {
      ASSERT_EQ(fill(mm, kBase + i * P, i), Status::Ok);  // page 3: a hole
    }
  }
  PteProbe probe(mm);
  w.ev.clear();
  int owner = 0;
  ASSERT_EQ(mm.write_protect(kBase + 2 * P, 4 * P, &owner), Status::Ok);

  EXPECT_EQ(w.ev, (Evs{{kBase + 2 * P, kBase + 6 * P, NotifyEvent::ProtectionPage, &owner}}));
  ASSERT_EQ(probe.seen.size(), 1u);
  EXPECT_EQ(probe.seen[0].event, NotifyEvent::ProtectionPage);
  EXPECT_EQ(probe.seen[0].owner, &owner);
  EXPECT_EQ(probe.seen[0].present, 3);   // pages 2, 4, 5
  EXPECT_EQ(probe.seen[0].writable, 3);  // not yet write-protected when the mirror hears of it

  for (uint32_t i = 0; i < 8; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    if (i == 3) {
      EXPECT_EQ(p.kind, PteKind::None);  // holes stay holes
      continue;
    }
    EXPECT_EQ(p.kind, PteKind::Present) << i;
    EXPECT_EQ(p.write, i < 2 || i >= 6) << i;
    EXPECT_TRUE(p.anon) << i;
    EXPECT_TRUE(p.dirty) << i;  // write-protecting is no write-back
  }
  // The VMA keeps its protection: only the entries changed.
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 8 * P, kRW}}));
  for (uint32_t i = 0; i < 8; ++i) {
    if (i != 3) {
      EXPECT_EQ(peek(mm, kBase + i * P), page_pattern(i)) << i;
    }
  }
  EXPECT_EQ(mm.s_cow_copies, 0u);
}

TEST_F(MmOpsWriteProtect, WriteToAPageWithAnotherReferenceCopiesIt) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  const Pfn old = mm.pte(kBase).pfn;
  sys.phys.get(old);  // a driver's copy holds the page too
  int owner = 0;
  ASSERT_EQ(mm.write_protect(kBase, 2 * P, &owner), Status::Ok);
  ASSERT_FALSE(mm.pte(kBase).write);
  w.ev.clear();
  const uint64_t f0 = sys.phys.free_frames();

  const uint32_t x = 0xA5A5F00D;
  ASSERT_EQ(mm.cpu_write(kBase + 100, &x, sizeof x), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + P, NotifyEvent::Clear, nullptr}}));
  const Pte p = mm.pte(kBase);
  EXPECT_EQ(p.kind, PteKind::Present);
  EXPECT_NE(p.pfn, old);
  EXPECT_TRUE(p.write && p.anon && p.dirty);
  EXPECT_EQ(mm.s_cow_copies, 1u);
  EXPECT_EQ(sys.phys.free_frames(), f0 - 1);
  // The old page keeps what the copy's keeper saw; the CPU sees old data
  // plus its write.
  EXPECT_EQ(sys.phys.refcount(old), 1u);
  std::vector<uint8_t> kept(P);
  sys.phys.read(old, 0, kept.data(), P);
  EXPECT_EQ(kept, page_pattern(1));
  auto want = page_pattern(1);
  std::memcpy(want.data() + 100, &x, sizeof x);
  EXPECT_EQ(peek(mm, kBase), want);
  EXPECT_EQ(sys.phys.refcount(p.pfn), 1u);
  sys.phys.put(old);
  EXPECT_FALSE(sys.phys.valid(old));
}

TEST_F(MmOpsWriteProtect, WriteToASolePageReusesIt) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 2), Status::Ok);
  const Pfn pfn = mm.pte(kBase).pfn;
  int owner = 0;
  ASSERT_EQ(mm.write_protect(kBase, P, &owner), Status::Ok);
  ASSERT_FALSE(mm.pte(kBase).write);
  w.ev.clear();
  const uint64_t f0 = sys.phys.free_frames();
  const uint64_t faults0 = mm.s_cpu_faults;

  const uint8_t b = 0x5C;
  ASSERT_EQ(mm.cpu_write(kBase + 7, &b, 1), Status::Ok);
  EXPECT_TRUE(w.ev.empty());  // no copy, no CLEAR
  EXPECT_EQ(mm.s_cpu_faults, faults0 + 1);  // but the write did fault
  const Pte p = mm.pte(kBase);
  EXPECT_EQ(p.pfn, pfn);
  EXPECT_TRUE(p.write && p.dirty);
  EXPECT_EQ(mm.s_cow_copies, 0u);
  EXPECT_EQ(sys.phys.free_frames(), f0);
  EXPECT_EQ(sys.phys.refcount(pfn), 1u);
  auto want = page_pattern(2);
  want[7] = 0x5C;
  EXPECT_EQ(peek(mm, kBase), want);
}

TEST_F(MmOpsWriteProtect, ZeroPageStaysSharedAndAWriteCopiesIt) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(peek(mm, kBase), kZeroPage);
  ASSERT_EQ(mm.pte(kBase).pfn, sys.phys.zero_pfn());
  int owner = 0;
  ASSERT_EQ(mm.write_protect(kBase, P, &owner), Status::Ok);
  EXPECT_EQ(mm.pte(kBase).pfn, sys.phys.zero_pfn());
  w.ev.clear();
  ASSERT_EQ(fill(mm, kBase, 3), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + P, NotifyEvent::Clear, nullptr}}));
  EXPECT_NE(mm.pte(kBase).pfn, sys.phys.zero_pfn());
  EXPECT_EQ(peek(mm, kBase), page_pattern(3));
}

TEST_F(MmOpsWriteProtect, PrivateFilePageCacheStaysReadOnlyAndCopiesOnWrite) {
  auto f = std::make_shared<MemFile>(sys.phys, "file");
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kRW, VmaKind::FilePrivate, f, 0), Status::Ok);
  ASSERT_FALSE(peek(mm, kBase).empty());
  const Pfn cache = mm.pte(kBase).pfn;
  int owner = 0;
  ASSERT_EQ(mm.write_protect(kBase, P, &owner), Status::Ok);
  EXPECT_EQ(w.of(NotifyEvent::ProtectionPage), (Evs{{kBase, kBase + P, NotifyEvent::ProtectionPage, &owner}}));
  w.ev.clear();
  ASSERT_EQ(fill(mm, kBase, 4), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + P, NotifyEvent::Clear, nullptr}}));
  EXPECT_NE(mm.pte(kBase).pfn, cache);
  EXPECT_TRUE(mm.pte(kBase).anon);
}

TEST_F(MmOpsWriteProtect, DevicePrivateEntriesAreLeftAlone) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(fill(mm, kBase, 1), Status::Ok);
  ASSERT_EQ(fill(mm, kBase + P, 2), Status::Ok);
  ASSERT_EQ(dev.migrate(mm, kBase + P, kBase + 2 * P), 1u);
  ASSERT_EQ(mm.pte(kBase + P).kind, PteKind::DevicePrivate);
  ASSERT_TRUE(mm.pte(kBase + P).write);
  int owner = 0;
  ASSERT_EQ(mm.write_protect(kBase, 2 * P, &owner), Status::Ok);
  EXPECT_FALSE(mm.pte(kBase).write);
  EXPECT_EQ(mm.pte(kBase + P).kind, PteKind::DevicePrivate);
  EXPECT_TRUE(mm.pte(kBase + P).write);  // only present entries are write-protected
  EXPECT_TRUE(dev.to_ram.empty());       // nor is the device page brought back
  EXPECT_EQ(peek(mm, kBase + P), page_pattern(2));
}

TEST_F(MmOpsWriteProtect, RefusesSharedHugetlbCrossingAndBadRanges) {
  auto f = std::make_shared<MemFile>(sys.phys, "file");
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kRW, VmaKind::AnonShared), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 4 * P, P, kRW, VmaKind::FileShared, f, 0), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 8 * P, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 10 * P, 2 * P, kRW, VmaKind::AnonPrivate), Status::Ok);  // adjacent VMA
  ASSERT_EQ(mm.mmap_fixed(kBase + M2, M2, kRW, VmaKind::AnonPrivate, nullptr, 0, true), Status::Ok);
  for (uint64_t va : {kBase, kBase + 4 * P, kBase + 8 * P, kBase + 9 * P, kBase + 10 * P, kBase + M2})
    ASSERT_EQ(fill(mm, va, 9), Status::Ok) << std::hex << va;
  ASSERT_EQ(spans(mm).size(), 5u) << "the test needs two distinct private VMAs side by side";
  w.ev.clear();
  int owner = 0;
  EXPECT_EQ(mm.write_protect(kBase, 2 * P, &owner), Status::Inval);             // shared anonymous
  EXPECT_EQ(mm.write_protect(kBase + 4 * P, P, &owner), Status::Inval);         // shared file
  EXPECT_EQ(mm.write_protect(kBase + M2, M2, &owner), Status::Inval);           // hugetlb, whole page
  EXPECT_EQ(mm.write_protect(kBase + 9 * P, 2 * P, &owner), Status::Inval);     // crosses the VMA end
  EXPECT_EQ(mm.write_protect(kBase + 8 * P, 3 * P, &owner), Status::Inval);     // ditto, from its start
  EXPECT_EQ(mm.write_protect(kBase + 12 * P, P, &owner), Status::Inval);        // no VMA
  EXPECT_EQ(mm.write_protect(kBase + 6 * P, 3 * P, &owner), Status::Inval);     // starts in a hole
  EXPECT_EQ(mm.write_protect(kBase + 8 * P + 1, P, &owner), Status::Inval);     // unaligned
  EXPECT_EQ(mm.write_protect(kBase + 8 * P, 0, &owner), Status::Inval);         // empty
  EXPECT_TRUE(w.ev.empty()) << "a refused range raises nothing";
  for (uint64_t va : {kBase, kBase + 4 * P, kBase + 8 * P, kBase + 9 * P, kBase + 10 * P, kBase + M2})
    EXPECT_TRUE(mm.pte(va).write) << std::hex << va;
  EXPECT_EQ(mm.s_thp_splits, 0u);
  // The exact VMA is accepted, and a length is rounded up to whole pages.
  EXPECT_EQ(mm.write_protect(kBase + 8 * P, P + 1, &owner), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase + 8 * P, kBase + 10 * P, NotifyEvent::ProtectionPage, &owner}}));
  EXPECT_FALSE(mm.pte(kBase + 9 * P).write);
  EXPECT_TRUE(mm.pte(kBase + 10 * P).write);
}

TEST_F(MmOpsWriteProtect, SplitsATransparentHugePageAtTheEdges) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
  ASSERT_EQ(tag(mm, kBase, 0), Status::Ok);
  ASSERT_TRUE(mm.pte(kBase).pmd);
  const Pfn head = mm.pte(kBase).pfn;
  for (uint64_t i = 0; i < kHugePages; ++i) ASSERT_EQ(tag(mm, kBase + i * P, 500 + i), Status::Ok);
  w.ev.clear();
  int owner = 0;
  ASSERT_EQ(mm.write_protect(kBase + 128 * P, 128 * P, &owner), Status::Ok);
  // The split tells mirrors of the whole block first.
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::Clear, nullptr},
                       {kBase + 128 * P, kBase + 256 * P, NotifyEvent::ProtectionPage, &owner}}));
  EXPECT_EQ(mm.s_thp_splits, 1u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    ASSERT_EQ(p.kind, PteKind::Present) << i;
    EXPECT_FALSE(p.pmd) << i;
    EXPECT_EQ(p.pfn, head + i) << i;
    EXPECT_EQ(p.write, i < 128 || i >= 256) << i;
  }
  for (uint64_t i : {0ull, 127ull, 128ull, 255ull, 256ull, 511ull}) EXPECT_EQ(tag_of(mm, kBase + i * P), 500 + i);
  EXPECT_EQ(mm.s_cow_copies, 0u);
}

TEST_F(MmOpsWriteProtect, WholeTransparentHugePageStaysAPmdMapping) {
  ASSERT_EQ(mm.mmap_fixed(kBase, M2, kRW, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
  ASSERT_EQ(tag(mm, kBase, 1), Status::Ok);
  const Pfn head = mm.pte(kBase).pfn;
  w.ev.clear();
  int owner = 0;
  ASSERT_EQ(mm.write_protect(kBase, M2, &owner), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::ProtectionPage, &owner}}));
  EXPECT_EQ(mm.s_thp_splits, 0u);
  for (uint64_t i = 0; i < kHugePages; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    EXPECT_TRUE(p.pmd) << i;
    EXPECT_FALSE(p.write) << i;
  }
  // One subpage with another reference: a write to it copies that page
  // alone (the PMD is split, its mirrors told), the rest stay in place.
  sys.phys.get(head + 5);
  w.ev.clear();
  ASSERT_EQ(tag(mm, kBase + 5 * P, 55), Status::Ok);
  EXPECT_EQ(w.ev, (Evs{{kBase, kBase + M2, NotifyEvent::Clear, nullptr},
                       {kBase + 5 * P, kBase + 6 * P, NotifyEvent::Clear, nullptr}}));
  EXPECT_NE(mm.pte(kBase + 5 * P).pfn, head + 5);
  EXPECT_EQ(tag_of(mm, kBase + 5 * P), 55u);
  EXPECT_EQ(mm.pte(kBase + 6 * P).pfn, head + 6);
  EXPECT_FALSE(mm.pte(kBase + 6 * P).pmd);
  EXPECT_EQ(mm.s_cow_copies, 1u);
  sys.phys.put(head + 5);
}
