// AddressSpace: VMAs (mmap / munmap / split), CPU faults (zero page, write
// allocation, copy-on-write with its notifier), data round trips and errors.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "host/mm/address_space.h"

using namespace hmmsim::host;

namespace {

constexpr uint64_t kBase = 0x40000000;  // 1 GiB

struct Recorder : IMmuIntervalNotifierOps {
  std::vector<NotifierRange> calls;
  bool invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t seq) override {
    calls.push_back(r);
    n.set_seq(seq);
    return true;
  }
};

class AddressSpaceTest : public ::testing::Test {
 protected:
  AddressSpaceTest() : sys(64), mm(sys), whole(0, ~0ull, &rec) { mm.notifiers().insert(&whole); }
  ~AddressSpaceTest() override { mm.notifiers().remove(&whole); }

  std::vector<uint8_t> pattern(uint64_t len, uint8_t seed) {
    std::vector<uint8_t> v(len);
    for (uint64_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 8));
    return v;
  }

  HostSystem sys;
  AddressSpace mm;
  Recorder rec;
  MmuIntervalNotifier whole;
};

}  // namespace

TEST_F(AddressSpaceTest, MmapCreatesPageRoundedVma) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 5000, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  const Vma* v = mm.find_vma(kBase);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->start, kBase);
  EXPECT_EQ(v->end, kBase + 2 * kPageSize);
  EXPECT_EQ(v->prot, uint32_t(kProtRead | kProtWrite));
  EXPECT_EQ(v->kind, VmaKind::AnonPrivate);
  EXPECT_EQ(mm.find_vma(kBase + 2 * kPageSize - 1), v);
  EXPECT_EQ(mm.find_vma(kBase + 2 * kPageSize), nullptr);
  EXPECT_EQ(mm.find_vma(kBase - 1), nullptr);
  EXPECT_EQ(mm.find_vma(0), nullptr);
  // mmap changes no page table entries: no notifier traffic.
  EXPECT_TRUE(rec.calls.empty());
}

TEST_F(AddressSpaceTest, MmapRejectsBadRangesAndOverlap) {
  EXPECT_EQ(mm.mmap_fixed(kBase + 1, kPageSize, kProtRead, VmaKind::AnonPrivate), Status::Inval);
  EXPECT_EQ(mm.mmap_fixed(kBase, 0, kProtRead, VmaKind::AnonPrivate), Status::Inval);
  EXPECT_EQ(mm.mmap_fixed(~0ull - kPageSize + 1, kPageSize, kProtRead, VmaKind::AnonPrivate),
            Status::Inval);  // end wraps to 0
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * kPageSize, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  // Overlap at the head, the tail, inside and around.
  EXPECT_EQ(mm.mmap_fixed(kBase - kPageSize, 2 * kPageSize, kProtRead, VmaKind::AnonPrivate),
            Status::Inval);
  EXPECT_EQ(mm.mmap_fixed(kBase + 3 * kPageSize, 2 * kPageSize, kProtRead, VmaKind::AnonPrivate),
            Status::Inval);
  EXPECT_EQ(mm.mmap_fixed(kBase + kPageSize, kPageSize, kProtRead, VmaKind::AnonPrivate),
            Status::Inval);
  EXPECT_EQ(mm.mmap_fixed(kBase - kPageSize, 8 * kPageSize, kProtRead, VmaKind::AnonPrivate),
            Status::Inval);
  // Exactly adjacent on both sides is fine.
  EXPECT_EQ(mm.mmap_fixed(kBase - kPageSize, kPageSize, kProtRead, VmaKind::AnonShared),
            Status::Ok);
  EXPECT_EQ(mm.mmap_fixed(kBase + 4 * kPageSize, kPageSize, kProtWrite | kProtRead,
                          VmaKind::AnonPrivate),
            Status::Ok);
  EXPECT_EQ(mm.find_vma(kBase - 1)->kind, VmaKind::AnonShared);
  EXPECT_EQ(mm.find_vma(kBase + 3 * kPageSize)->start, kBase);
  EXPECT_EQ(mm.find_vma(kBase + 4 * kPageSize)->start, kBase + 4 * kPageSize);
}

TEST_F(AddressSpaceTest, MunmapSplitsVmaAndRaisesUnmap) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 16 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonShared),
            Status::Ok);
  ASSERT_EQ(mm.munmap(kBase + 4 * kPageSize, 4 * kPageSize - 100), Status::Ok);  // rounds up
  ASSERT_EQ(rec.calls.size(), 1u);
  EXPECT_EQ(rec.calls[0].event, NotifyEvent::Unmap);
  EXPECT_EQ(rec.calls[0].start, kBase + 4 * kPageSize);
  EXPECT_EQ(rec.calls[0].end, kBase + 8 * kPageSize);

  const Vma* lo = mm.find_vma(kBase);
  const Vma* hi = mm.find_vma(kBase + 8 * kPageSize);
  ASSERT_NE(lo, nullptr);
  ASSERT_NE(hi, nullptr);
  EXPECT_EQ(lo->start, kBase);
  EXPECT_EQ(lo->end, kBase + 4 * kPageSize);
  EXPECT_EQ(hi->start, kBase + 8 * kPageSize);
  EXPECT_EQ(hi->end, kBase + 16 * kPageSize);
  EXPECT_EQ(lo->prot, uint32_t(kProtRead | kProtWrite));
  EXPECT_EQ(hi->prot, uint32_t(kProtRead | kProtWrite));
  EXPECT_EQ(lo->kind, VmaKind::AnonShared);
  EXPECT_EQ(hi->kind, VmaKind::AnonShared);
  for (uint64_t p = 4; p < 8; ++p) EXPECT_EQ(mm.find_vma(kBase + p * kPageSize), nullptr);

  // Trim the head and the tail.
  ASSERT_EQ(mm.munmap(kBase, kPageSize), Status::Ok);
  ASSERT_EQ(mm.munmap(kBase + 15 * kPageSize, kPageSize), Status::Ok);
  EXPECT_EQ(mm.find_vma(kBase), nullptr);
  EXPECT_EQ(mm.find_vma(kBase + kPageSize)->start, kBase + kPageSize);
  EXPECT_EQ(mm.find_vma(kBase + 14 * kPageSize)->end, kBase + 15 * kPageSize);
  EXPECT_EQ(mm.find_vma(kBase + 15 * kPageSize), nullptr);
  // One munmap spanning two VMAs and the gap removes both.
  ASSERT_EQ(mm.munmap(kBase, 16 * kPageSize), Status::Ok);
  for (uint64_t p = 0; p < 16; ++p) EXPECT_EQ(mm.find_vma(kBase + p * kPageSize), nullptr);
  // The freed range can be mapped again.
  EXPECT_EQ(mm.mmap_fixed(kBase, 16 * kPageSize, kProtRead, VmaKind::AnonPrivate), Status::Ok);
}

TEST_F(AddressSpaceTest, MunmapRejectsBadArguments) {
  EXPECT_EQ(mm.munmap(kBase + 1, kPageSize), Status::Inval);
  EXPECT_EQ(mm.munmap(kBase, 0), Status::Inval);
  EXPECT_TRUE(rec.calls.empty());
}

TEST_F(AddressSpaceTest, MunmapReleasesPagesAndPtes) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 8 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  const uint64_t free0 = sys.phys.free_frames();
  const auto data = pattern(8 * kPageSize, 1);
  ASSERT_EQ(mm.cpu_write(kBase, data.data(), data.size()), Status::Ok);
  EXPECT_EQ(sys.phys.free_frames(), free0 - 8);
  const Pfn p2 = mm.pte(kBase + 2 * kPageSize).pfn;
  ASSERT_EQ(mm.munmap(kBase + 2 * kPageSize, 3 * kPageSize), Status::Ok);
  EXPECT_EQ(sys.phys.free_frames(), free0 - 5);
  EXPECT_FALSE(sys.phys.valid(p2));
  for (uint64_t p = 2; p < 5; ++p) EXPECT_EQ(mm.pte(kBase + p * kPageSize).kind, PteKind::None);
  EXPECT_EQ(mm.pte(kBase + 5 * kPageSize).kind, PteKind::Present);
  // Untouched pages still hold their data.
  std::vector<uint8_t> back(kPageSize);
  ASSERT_EQ(mm.cpu_read(kBase + 5 * kPageSize, back.data(), kPageSize), Status::Ok);
  EXPECT_EQ(0, std::memcmp(back.data(), data.data() + 5 * kPageSize, kPageSize));
  // A page shared with someone else survives the unmap.
  const Pfn p6 = mm.pte(kBase + 6 * kPageSize).pfn;
  sys.phys.get(p6);
  ASSERT_EQ(mm.munmap(kBase + 6 * kPageSize, kPageSize), Status::Ok);
  EXPECT_TRUE(sys.phys.valid(p6));
  EXPECT_EQ(sys.phys.refcount(p6), 1u);
  sys.phys.put(p6);
}

TEST_F(AddressSpaceTest, ReadOfUntouchedPrivateMemoryMapsTheZeroPage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  const uint64_t free0 = sys.phys.free_frames();
  std::vector<uint8_t> buf(2 * kPageSize, 0xCC);
  ASSERT_EQ(mm.cpu_read(kBase + kPageSize, buf.data(), buf.size()), Status::Ok);
  for (uint8_t b : buf) ASSERT_EQ(b, 0);
  for (uint64_t p : {1, 2}) {
    const Pte e = mm.pte(kBase + p * kPageSize);
    EXPECT_EQ(e.kind, PteKind::Present);
    EXPECT_EQ(e.pfn, sys.phys.zero_pfn());
    EXPECT_FALSE(e.write);
  }
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::None);
  EXPECT_EQ(mm.s_zero_page_maps, 2u);
  EXPECT_EQ(mm.s_cpu_faults, 2u);
  EXPECT_EQ(sys.phys.free_frames(), free0);
  // A second read faults no more.
  ASSERT_EQ(mm.cpu_read(kBase + kPageSize, buf.data(), buf.size()), Status::Ok);
  EXPECT_EQ(mm.s_cpu_faults, 2u);
  EXPECT_TRUE(rec.calls.empty());
}

TEST_F(AddressSpaceTest, ReadOfSharedAnonMemoryAllocatesARealPage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, kPageSize, kProtRead | kProtWrite, VmaKind::AnonShared),
            Status::Ok);
  const uint64_t free0 = sys.phys.free_frames();
  uint8_t b = 0xCC;
  ASSERT_EQ(mm.cpu_read(kBase + 17, &b, 1), Status::Ok);
  EXPECT_EQ(b, 0);
  const Pte e = mm.pte(kBase);
  EXPECT_EQ(e.kind, PteKind::Present);
  EXPECT_NE(e.pfn, sys.phys.zero_pfn());
  EXPECT_TRUE(e.write);   // the VMA is writable
  EXPECT_FALSE(e.dirty);  // but nothing was written yet
  EXPECT_EQ(mm.s_zero_page_maps, 0u);
  EXPECT_EQ(sys.phys.free_frames(), free0 - 1);
}

TEST_F(AddressSpaceTest, WriteFaultAllocatesAWritableDirtyPage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  const uint64_t free0 = sys.phys.free_frames();
  const uint32_t v = 0xDEADBEEF;
  ASSERT_EQ(mm.cpu_write(kBase + 8, &v, sizeof v), Status::Ok);
  const Pte e = mm.pte(kBase);
  EXPECT_EQ(e.kind, PteKind::Present);
  EXPECT_NE(e.pfn, sys.phys.zero_pfn());
  EXPECT_TRUE(e.write);
  EXPECT_TRUE(e.dirty);
  EXPECT_EQ(sys.phys.refcount(e.pfn), 1u);
  EXPECT_EQ(sys.phys.free_frames(), free0 - 1);
  EXPECT_EQ(mm.s_cpu_faults, 1u);
  EXPECT_EQ(mm.s_zero_page_maps, 0u);
  uint32_t got = 0;
  sys.phys.read(e.pfn, 8, &got, sizeof got);
  EXPECT_EQ(got, v);
  EXPECT_EQ(mm.pte(kBase + kPageSize).kind, PteKind::None);
  EXPECT_TRUE(rec.calls.empty());  // nothing a mirror could hold changed
}

TEST_F(AddressSpaceTest, WriteAfterZeroPageReadCopiesOnWrite) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(kBase + 2 * kPageSize, &b, 1), Status::Ok);
  ASSERT_EQ(mm.pte(kBase + 2 * kPageSize).pfn, sys.phys.zero_pfn());
  b = 0x42;
  ASSERT_EQ(mm.cpu_write(kBase + 2 * kPageSize + 5, &b, 1), Status::Ok);
  ASSERT_EQ(rec.calls.size(), 1u);
  EXPECT_EQ(rec.calls[0].event, NotifyEvent::Clear);
  EXPECT_EQ(rec.calls[0].start, kBase + 2 * kPageSize);
  EXPECT_EQ(rec.calls[0].end, kBase + 3 * kPageSize);
  const Pte e = mm.pte(kBase + 2 * kPageSize);
  EXPECT_NE(e.pfn, sys.phys.zero_pfn());
  EXPECT_TRUE(e.write);
  std::vector<uint8_t> page(kPageSize);
  ASSERT_EQ(mm.cpu_read(kBase + 2 * kPageSize, page.data(), kPageSize), Status::Ok);
  for (uint64_t i = 0; i < kPageSize; ++i) ASSERT_EQ(page[i], i == 5 ? 0x42 : 0) << i;
  // The zero page itself stays zero.
  uint8_t z = 0xFF;
  sys.phys.read(sys.phys.zero_pfn(), 5, &z, 1);
  EXPECT_EQ(z, 0);
}

TEST_F(AddressSpaceTest, SharedPageCopyOnWriteClearsExactlyThatPage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  const auto data = pattern(4 * kPageSize, 9);
  ASSERT_EQ(mm.cpu_write(kBase, data.data(), data.size()), Status::Ok);
  // Simulate fork: page 1 gains a second reference and becomes read-only.
  const uint64_t va = kBase + kPageSize;
  Pte old = mm.pte(va);
  const Pfn shared = old.pfn;
  sys.phys.get(shared);
  old.write = false;
  mm.set_pte(va, old);

  // A second mirror that only covers page 3 must not be bothered.
  Recorder other;
  MmuIntervalNotifier page3(kBase + 3 * kPageSize, kBase + 4 * kPageSize, &other);
  mm.notifiers().insert(&page3);
  const uint64_t seq_whole = whole.read_begin();
  const uint64_t seq_page3 = page3.read_begin();

  const uint8_t x = 0x99;
  ASSERT_EQ(mm.cpu_write(va + 100, &x, 1), Status::Ok);
  mm.notifiers().remove(&page3);

  ASSERT_EQ(rec.calls.size(), 1u);
  EXPECT_EQ(rec.calls[0].event, NotifyEvent::Clear);
  EXPECT_EQ(rec.calls[0].start, va);
  EXPECT_EQ(rec.calls[0].end, va + kPageSize);
  EXPECT_TRUE(whole.read_retry(seq_whole));
  EXPECT_TRUE(other.calls.empty());
  EXPECT_FALSE(page3.read_retry(seq_page3));

  const Pte now = mm.pte(va);
  EXPECT_NE(now.pfn, shared);
  EXPECT_TRUE(now.write);
  EXPECT_TRUE(now.dirty);
  EXPECT_EQ(sys.phys.refcount(shared), 1u);  // our reference was dropped
  EXPECT_EQ(sys.phys.refcount(now.pfn), 1u);
  // New page: old contents plus the store. Shared page: untouched.
  std::vector<uint8_t> got(kPageSize);
  sys.phys.read(now.pfn, 0, got.data(), kPageSize);
  for (uint64_t i = 0; i < kPageSize; ++i)
    ASSERT_EQ(got[i], i == 100 ? 0x99 : data[kPageSize + i]) << i;
  sys.phys.read(shared, 0, got.data(), kPageSize);
  EXPECT_EQ(0, std::memcmp(got.data(), data.data() + kPageSize, kPageSize));
  sys.phys.put(shared);
}

TEST_F(AddressSpaceTest, SoleOwnerReadOnlyPteIsReusedWithoutCopy) {
  ASSERT_EQ(mm.mmap_fixed(kBase, kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  const uint8_t a = 1;
  ASSERT_EQ(mm.cpu_write(kBase, &a, 1), Status::Ok);
  Pte p = mm.pte(kBase);
  p.write = false;
  p.dirty = false;
  mm.set_pte(kBase, p);
  const uint64_t free0 = sys.phys.free_frames();
  const uint8_t b = 2;
  ASSERT_EQ(mm.cpu_write(kBase + 1, &b, 1), Status::Ok);
  const Pte q = mm.pte(kBase);
  EXPECT_EQ(q.pfn, p.pfn);
  EXPECT_TRUE(q.write);
  EXPECT_TRUE(q.dirty);
  EXPECT_EQ(sys.phys.free_frames(), free0);
  EXPECT_TRUE(rec.calls.empty());
}

TEST_F(AddressSpaceTest, DataRoundTripsAcrossPageBoundaries) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 6 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  const uint64_t off = 4000, len = 3 * kPageSize + 300;
  const auto data = pattern(len, 77);
  ASSERT_EQ(mm.cpu_write(kBase + off, data.data(), len), Status::Ok);
  std::vector<uint8_t> back(len, 0);
  ASSERT_EQ(mm.cpu_read(kBase + off, back.data(), len), Status::Ok);
  EXPECT_EQ(back, data);
  // Pages 0..4 were touched by the write (4000 .. 4000+12588), page 5 not.
  for (uint64_t p = 0; p < 5; ++p) EXPECT_EQ(mm.pte(kBase + p * kPageSize).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(kBase + 5 * kPageSize).kind, PteKind::None);
  // Bytes around the write are zero.
  std::vector<uint8_t> all(6 * kPageSize, 0xEE);
  ASSERT_EQ(mm.cpu_read(kBase, all.data(), all.size()), Status::Ok);
  for (uint64_t i = 0; i < all.size(); ++i) {
    const uint8_t want = (i >= off && i < off + len) ? data[i - off] : 0;
    ASSERT_EQ(all[i], want) << i;
  }
  // Each page's frame holds its slice.
  uint8_t b = 0;
  sys.phys.read(mm.pte(kBase + kPageSize).pfn, 0, &b, 1);
  EXPECT_EQ(b, data[kPageSize - off]);
  // Zero-length accesses succeed without faulting.
  const uint64_t faults = mm.s_cpu_faults;
  EXPECT_EQ(mm.cpu_read(kBase + 5 * kPageSize, back.data(), 0), Status::Ok);
  EXPECT_EQ(mm.s_cpu_faults, faults);
}

TEST_F(AddressSpaceTest, AccessOutsideAnyVmaFaults) {
  uint8_t b = 0;
  EXPECT_EQ(mm.cpu_read(kBase, &b, 1), Status::Fault);
  EXPECT_EQ(mm.cpu_write(kBase, &b, 1), Status::Fault);
  EXPECT_EQ(mm.handle_fault(kBase, false), Status::Fault);
  ASSERT_EQ(mm.mmap_fixed(kBase, kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  // A read running off the end of the VMA fails on the next page.
  std::vector<uint8_t> buf(2 * kPageSize);
  EXPECT_EQ(mm.cpu_read(kBase, buf.data(), buf.size()), Status::Fault);
  EXPECT_EQ(mm.s_cpu_faults, 1u);  // only the mapped page was faulted in
}

TEST_F(AddressSpaceTest, ProtNoneFaultsAndReadOnlyRejectsWrites) {
  ASSERT_EQ(mm.mmap_fixed(kBase, kPageSize, kProtNone, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + kPageSize, kPageSize, kProtRead, VmaKind::AnonPrivate),
            Status::Ok);
  uint8_t b = 7;
  EXPECT_EQ(mm.cpu_read(kBase, &b, 1), Status::Fault);
  EXPECT_EQ(mm.cpu_write(kBase, &b, 1), Status::Fault);
  EXPECT_EQ(mm.cpu_write(kBase + kPageSize, &b, 1), Status::Perm);
  EXPECT_EQ(mm.handle_fault(kBase + kPageSize, true), Status::Perm);
  EXPECT_EQ(mm.pte(kBase + kPageSize).kind, PteKind::None);
  EXPECT_EQ(mm.s_cpu_faults, 0u);
  // Reading the read-only VMA works and gives the (read-only) zero page.
  EXPECT_EQ(mm.cpu_read(kBase + kPageSize, &b, 1), Status::Ok);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(mm.pte(kBase + kPageSize).pfn, sys.phys.zero_pfn());
  EXPECT_EQ(mm.cpu_write(kBase + kPageSize, &b, 1), Status::Perm);
  EXPECT_EQ(mm.pte(kBase + kPageSize).pfn, sys.phys.zero_pfn());
}

TEST_F(AddressSpaceTest, WriteRunningIntoReadOnlyVmaStopsWithPerm) {
  ASSERT_EQ(mm.mmap_fixed(kBase, kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + kPageSize, kPageSize, kProtRead, VmaKind::AnonPrivate),
            Status::Ok);
  const auto data = pattern(2 * kPageSize, 3);
  EXPECT_EQ(mm.cpu_write(kBase, data.data(), data.size()), Status::Perm);
  // The first page was written before the failure, as a CPU would.
  std::vector<uint8_t> back(kPageSize);
  ASSERT_EQ(mm.cpu_read(kBase, back.data(), kPageSize), Status::Ok);
  EXPECT_EQ(0, std::memcmp(back.data(), data.data(), kPageSize));
}

TEST_F(AddressSpaceTest, OutOfMemoryWriteFaultReportsNoMem) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 128 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  const uint64_t frames = sys.phys.free_frames();  // 63
  const uint8_t b = 1;
  for (uint64_t p = 0; p < frames; ++p)
    ASSERT_EQ(mm.cpu_write(kBase + p * kPageSize, &b, 1), Status::Ok) << p;
  EXPECT_EQ(sys.phys.free_frames(), 0u);
  EXPECT_EQ(mm.cpu_write(kBase + frames * kPageSize, &b, 1), Status::NoMem);
  EXPECT_EQ(mm.pte(kBase + frames * kPageSize).kind, PteKind::None);
  // Reads still work: they map the zero page.
  uint8_t r = 9;
  EXPECT_EQ(mm.cpu_read(kBase + frames * kPageSize, &r, 1), Status::Ok);
  EXPECT_EQ(r, 0);
  // COW of the zero page needs a frame too, and must leave the PTE alone.
  EXPECT_EQ(mm.cpu_write(kBase + frames * kPageSize, &b, 1), Status::NoMem);
  EXPECT_EQ(mm.pte(kBase + frames * kPageSize).pfn, sys.phys.zero_pfn());
  EXPECT_TRUE(rec.calls.empty()) << "no CLEAR may be raised for a COW that did not happen";
}

TEST_F(AddressSpaceTest, MigrationEntryMakesCpuAccessRetry) {
  ASSERT_EQ(mm.mmap_fixed(kBase, kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  const uint8_t b = 5;
  ASSERT_EQ(mm.cpu_write(kBase, &b, 1), Status::Ok);
  Pte p = mm.pte(kBase);
  p.kind = PteKind::Migration;
  mm.set_pte(kBase, p);
  uint8_t r = 0;
  EXPECT_EQ(mm.cpu_read(kBase, &r, 1), Status::Again);
  EXPECT_EQ(mm.cpu_write(kBase, &r, 1), Status::Again);
  p.kind = PteKind::Present;
  mm.set_pte(kBase, p);
  EXPECT_EQ(mm.cpu_read(kBase, &r, 1), Status::Ok);
  EXPECT_EQ(r, 5);
}

TEST(AddressSpaceLifetime, DestructionRaisesReleaseAndFreesPages) {
  HostSystem sys(32);
  Recorder rec;
  MmuIntervalNotifier n(0, ~0ull, &rec);
  const uint64_t free0 = sys.phys.free_frames();
  {
    AddressSpace mm(sys);
    mm.notifiers().insert(&n);
    ASSERT_EQ(mm.mmap_fixed(kBase, 8 * kPageSize, kProtRead | kProtWrite, VmaKind::AnonPrivate),
              Status::Ok);
    std::vector<uint8_t> d(5 * kPageSize, 1);
    ASSERT_EQ(mm.cpu_write(kBase, d.data(), d.size()), Status::Ok);
    uint8_t b;
    ASSERT_EQ(mm.cpu_read(kBase + 6 * kPageSize, &b, 1), Status::Ok);  // zero page
    EXPECT_EQ(sys.phys.free_frames(), free0 - 5);
  }
  EXPECT_EQ(sys.phys.free_frames(), free0);
  EXPECT_EQ(sys.phys.refcount(0), 1u);
  ASSERT_EQ(rec.calls.size(), 1u);
  EXPECT_EQ(rec.calls[0].event, NotifyEvent::Release);
  EXPECT_EQ(rec.calls[0].start, 0u);
  EXPECT_EQ(rec.calls[0].end, ~0ull);
}
