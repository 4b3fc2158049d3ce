// Address-space operations against the Linux semantics of the HMM test spec
// (§5 fork, §6 device-exclusive, §7 notifier events):
// munmap, mprotect, mremap, madvise (THP, huge zero page, DONTNEED, FREE and
// reclaim), fork and exit, file mappings, hugetlb and make_device_exclusive.
// Every test checks PTE state, page references, notifier traffic (event,
// exact range, owner, order), VMA lists and data.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <tuple>
#include <vector>

#include "host/hmm/migrate.h"
#include "host/mm/address_space.h"

using namespace hmmsim::host;

namespace {

constexpr uint64_t P = kPageSize;
constexpr uint64_t M2 = kHugeSize;
constexpr uint64_t kBase = 0x40000000;  // 1 GiB: 2 MiB aligned
constexpr uint32_t kRW = kProtRead | kProtWrite;

// One notifier call as the mirrors saw it.
struct Ev {
  uint64_t start, end;
  NotifyEvent event;
  const void* owner;
};
bool operator==(const Ev& a, const Ev& b) {
  return a.start == b.start && a.end == b.end && a.event == b.event && a.owner == b.owner;
}
std::ostream& operator<<(std::ostream& os, const Ev& e) {
  return os << to_string(e.event) << "[0x" << std::hex << e.start << ", 0x" << e.end << ")" << std::dec
            << " owner=" << e.owner;
}
using Evs = std::vector<Ev>;

// Records every invalidation of one address space (whole-range notifier).
// Declare it after the address space it watches.
struct Watch : IMmuIntervalNotifierOps {
  explicit Watch(AddressSpace& m) : mm(m), n(0, ~0ull, this) { mm.notifiers().insert(&n); }
  ~Watch() override { mm.notifiers().remove(&n); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  bool invalidate(MmuIntervalNotifier& nn, const NotifierRange& r, uint64_t seq) override {
    ev.push_back(Ev{r.start, r.end, r.event, r.owner});
    nn.set_seq(seq);
    return true;
  }
  Evs of(NotifyEvent e) const {
    Evs out;
    for (const Ev& x : ev)
      if (x.event == e) out.push_back(x);
    return out;
  }
  AddressSpace& mm;
  MmuIntervalNotifier n;
  Evs ev;
};

// Minimal device-private memory: pages live in `mem`; migrate() moves a
// range in (SELECT_SYSTEM), migrate_to_ram() brings one page back.
struct DevMem : IPagemapOps {
  DevMem(HostSystem& s, uint64_t n) : sys(s) {
    pm = &s.pagemaps.add("mmops-dev", this, this, n);
    for (uint64_t i = n; i-- > 0;) free_list.push_back(pm->base + i);
  }
  uint64_t migrate(AddressSpace& mm, uint64_t start, uint64_t end) {
    MigrateVma a;
    a.start = start;
    a.end = end;
    a.flags = kSelectSystem;
    a.pgmap_owner = this;
    if (migrate_vma_setup(mm, a) != Status::Ok) return 0;
    for (size_t i = 0; i < a.src.size(); ++i) {
      if (!(a.src[i] & kMigratePfnMigrate) || free_list.empty()) continue;
      const Pfn d = free_list.back();
      free_list.pop_back();
      sys.pagemaps.init_page(d);
      std::vector<uint8_t>& m = mem[d];
      m.assign(P, 0);
      if (a.src[i] & kMigratePfnValid) sys.phys.read(migrate_pfn_to_pfn(a.src[i]), 0, m.data(), P);
      a.dst[i] = migrate_pfn(d) | (a.src[i] & kMigratePfnWrite);
    }
    migrate_vma_pages(mm, a);
    uint64_t n = 0;
    for (uint64_t s : a.src) n += (s & kMigratePfnMigrate) ? 1 : 0;
    migrate_vma_finalize(mm, a);
    return n;
  }
  Status migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn) override {
    ++to_ram;
    MigrateVma a;
    a.start = page_down(va);
    a.end = a.start + P;
    a.flags = kSelectDevicePrivate;
    a.pgmap_owner = this;
    const Status s = migrate_vma_setup(mm, a);
    if (s != Status::Ok) return s;
    if (!(a.src[0] & kMigratePfnMigrate)) return Status::Ok;
    const Pfn sp = sys.phys.alloc();
    if (sp == kNoPfn) {
      migrate_vma_finalize(mm, a);
      return Status::NoMem;
    }
    sys.phys.write(sp, 0, mem.at(migrate_pfn_to_pfn(a.src[0])).data(), P);
    a.dst[0] = migrate_pfn(sp);
    migrate_vma_pages(mm, a);
    migrate_vma_finalize(mm, a);
    return Status::Ok;
  }
  void page_free(Pfn p) override {
    ++frees;
    free_list.push_back(p);
    mem.erase(p);
  }

  HostSystem& sys;
  DevicePagemap* pm = nullptr;
  std::map<Pfn, std::vector<uint8_t>> mem;
  std::vector<Pfn> free_list;
  uint64_t to_ram = 0, frees = 0;
};

std::vector<uint8_t> page_pattern(uint32_t seed) {
  std::vector<uint8_t> v(P);
  for (uint64_t i = 0; i < P; ++i) v[i] = static_cast<uint8_t>(seed * 37 + i * 11 + (i >> 7) + 1);
  return v;
}
const std::vector<uint8_t> kZeroPage(P, 0);

Status fill(AddressSpace& mm, uint64_t va, uint32_t seed) {
  const std::vector<uint8_t> v = page_pattern(seed);
  return mm.cpu_write(va, v.data(), P);
}
// The page at `va` as the CPU reads it (faulting); empty on failure.
std::vector<uint8_t> peek(AddressSpace& mm, uint64_t va) {
  std::vector<uint8_t> v(P);
  if (mm.cpu_read(va, v.data(), P) != Status::Ok) return {};
  return v;
}
// A small per-page tag for THP-sized checks.
Status tag(AddressSpace& mm, uint64_t va, uint64_t value) { return mm.cpu_write(va, &value, sizeof value); }
uint64_t tag_of(AddressSpace& mm, uint64_t va) {
  uint64_t v = ~0ull;
  return mm.cpu_read(va, &v, sizeof v) == Status::Ok ? v : ~0ull;
}

using Span = std::tuple<uint64_t, uint64_t, uint32_t>;  // start, end, prot
std::vector<Span> spans(const AddressSpace& mm) {
  std::vector<Span> out;
  for (const auto& [s, v] : mm.vmas()) out.emplace_back(v.start, v.end, v.prot);
  return out;
}
std::vector<uint64_t> mapped(const AddressSpace& mm, uint64_t start, uint64_t end) {
  std::vector<uint64_t> out;
  for (const auto& [va, p] : mm.entries(start, end)) out.push_back(va);
  return out;
}

class MmOpsTest : public ::testing::Test {
 protected:
  MmOpsTest() : sys(4096), dev(sys, 64), mm(sys), w(mm) {}
  HostSystem sys;
  DevMem dev;  // outlives every address space that may map its pages
  AddressSpace mm;
  Watch w;
};

class MmOpsMunmap : public MmOpsTest {};
class MmOpsMprotect : public MmOpsTest {};
class MmOpsMremap : public MmOpsTest {};
class MmOpsMadvise : public MmOpsTest {};
class MmOpsFork : public MmOpsTest {};
class MmOpsFile : public MmOpsTest {};
class MmOpsHugetlb : public MmOpsTest {};
class MmOpsExclusive : public MmOpsTest {};

}  // namespace

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
  EXPECT_EQ(dev.to_ram, 1u);
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::Present);
  EXPECT_FALSE(mm.pte(kBase + 2 * P).write);
  EXPECT_EQ(dev.frees, 1u);
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
  EXPECT_EQ(dev.frees, 1u);
  EXPECT_EQ(spans(mm), (std::vector<Span>{{kBase, kBase + 4 * P, kRW}}));
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(peek(mm, kBase + i * P), kZeroPage) << i;
  EXPECT_EQ(dev.to_ram, 0u);
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
  EXPECT_EQ(dev.frees, 1u);
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
  EXPECT_EQ(dev.frees, 1u);
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
