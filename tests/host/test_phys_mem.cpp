// PhysMem: frame allocation order, reference counts, lazily materialised
// contents, the shared zero page and contiguous allocation.
#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "host/mm/phys_mem.h"

using namespace hmmsim::host;

namespace {

std::vector<uint8_t> read_page(const PhysMem& m, Pfn pfn) {
  std::vector<uint8_t> v(kPageSize, 0xEE);
  m.read(pfn, 0, v.data(), kPageSize);
  return v;
}

bool all_bytes(const std::vector<uint8_t>& v, uint8_t b) {
  for (uint8_t x : v)
    if (x != b) return false;
  return true;
}

}  // namespace

TEST(PhysMem, ConstructionReservesZeroPage) {
  PhysMem m(16);
  EXPECT_EQ(m.frames(), 16u);
  EXPECT_EQ(m.free_frames(), 15u);
  EXPECT_EQ(m.zero_pfn(), 0u);
  EXPECT_EQ(m.refcount(0), 1u);
  EXPECT_TRUE(m.valid(0));
  for (Pfn f = 1; f < 16; ++f) {
    EXPECT_FALSE(m.valid(f)) << f;
    EXPECT_EQ(m.refcount(f), 0u) << f;
  }
  EXPECT_FALSE(m.valid(16));
  EXPECT_TRUE(all_bytes(read_page(m, 0), 0));
  EXPECT_EQ(m.s_allocs, 0u);
  EXPECT_EQ(m.s_frees, 0u);
}

TEST(PhysMem, TooFewFramesThrows) {
  EXPECT_THROW(PhysMem(1), std::invalid_argument);
  EXPECT_THROW(PhysMem(0), std::invalid_argument);
  EXPECT_NO_THROW(PhysMem(2));
}

TEST(PhysMem, AllocatesLowestFirstUntilExhausted) {
  PhysMem m(5);
  EXPECT_EQ(m.alloc(), 1u);
  EXPECT_EQ(m.alloc(), 2u);
  EXPECT_EQ(m.alloc(), 3u);
  EXPECT_EQ(m.alloc(), 4u);
  EXPECT_EQ(m.free_frames(), 0u);
  EXPECT_EQ(m.alloc(), kNoPfn);
  EXPECT_EQ(m.alloc(), kNoPfn);
  EXPECT_EQ(m.s_allocs, 4u);
  for (Pfn f = 1; f <= 4; ++f) {
    EXPECT_TRUE(m.valid(f));
    EXPECT_EQ(m.refcount(f), 1u);
  }
}

TEST(PhysMem, FreedFrameIsReusedFirstLifo) {
  PhysMem m(8);
  const Pfn a = m.alloc(), b = m.alloc(), c = m.alloc();
  ASSERT_EQ(a, 1u);
  ASSERT_EQ(b, 2u);
  ASSERT_EQ(c, 3u);
  m.put(b);
  EXPECT_FALSE(m.valid(b));
  EXPECT_EQ(m.s_frees, 1u);
  EXPECT_EQ(m.free_frames(), 5u);
  m.put(a);
  EXPECT_EQ(m.alloc(), a);  // last freed comes back first
  EXPECT_EQ(m.alloc(), b);
  EXPECT_EQ(m.alloc(), 4u);
  EXPECT_EQ(m.s_frees, 2u);
  EXPECT_EQ(m.s_allocs, 6u);
}

TEST(PhysMem, ReferenceCountingFreesAtZeroOnly) {
  PhysMem m(4);
  const Pfn p = m.alloc();
  m.get(p);
  m.get(p);
  EXPECT_EQ(m.refcount(p), 3u);
  m.put(p);
  EXPECT_EQ(m.refcount(p), 2u);
  m.put(p);
  EXPECT_EQ(m.refcount(p), 1u);
  EXPECT_TRUE(m.valid(p));
  EXPECT_EQ(m.free_frames(), 2u);
  EXPECT_EQ(m.s_frees, 0u);
  m.put(p);
  EXPECT_EQ(m.refcount(p), 0u);
  EXPECT_FALSE(m.valid(p));
  EXPECT_EQ(m.free_frames(), 3u);
  EXPECT_EQ(m.s_frees, 1u);
}

TEST(PhysMem, ZeroPageIsNeverFreed) {
  PhysMem m(4);
  m.put(m.zero_pfn());
  m.put(m.zero_pfn());
  EXPECT_TRUE(m.valid(0));
  EXPECT_EQ(m.refcount(0), 1u);
  EXPECT_EQ(m.free_frames(), 3u);
  EXPECT_EQ(m.s_frees, 0u);
  // Never handed out by alloc either.
  for (int i = 0; i < 3; ++i) EXPECT_NE(m.alloc(), 0u);
  EXPECT_EQ(m.alloc(), kNoPfn);
}

TEST(PhysMem, FreshFrameReadsZerosAndWritesRoundTrip) {
  PhysMem m(4);
  const Pfn p = m.alloc();
  EXPECT_TRUE(all_bytes(read_page(m, p), 0));
  const char msg[] = "hello, frame";
  m.write(p, 100, msg, sizeof msg);
  char back[sizeof msg] = {};
  m.read(p, 100, back, sizeof back);
  EXPECT_EQ(std::memcmp(back, msg, sizeof msg), 0);
  // Neighbouring bytes untouched; the last byte of the page is addressable.
  auto page = read_page(m, p);
  EXPECT_EQ(page[99], 0);
  EXPECT_EQ(page[100 + sizeof msg], 0);
  const uint8_t last = 0x7F;
  m.write(p, kPageSize - 1, &last, 1);
  EXPECT_EQ(read_page(m, p)[kPageSize - 1], 0x7F);
}

TEST(PhysMem, ReallocatedFrameDoesNotLeakOldContents) {
  PhysMem m(2);  // exactly one allocatable frame
  Pfn p = m.alloc();
  ASSERT_EQ(p, 1u);
  std::vector<uint8_t> junk(kPageSize, 0x5A);
  m.write(p, 0, junk.data(), kPageSize);
  m.put(p);
  p = m.alloc();
  ASSERT_EQ(p, 1u);
  EXPECT_TRUE(all_bytes(read_page(m, p), 0));
}

TEST(PhysMem, CopyAndClearPage) {
  PhysMem m(8);
  const Pfn a = m.alloc(), b = m.alloc(), c = m.alloc();
  std::vector<uint8_t> pat(kPageSize);
  for (uint64_t i = 0; i < kPageSize; ++i) pat[i] = static_cast<uint8_t>(i * 7 + 3);
  m.write(a, 0, pat.data(), kPageSize);
  m.copy_page(b, a);
  EXPECT_EQ(read_page(m, b), pat);
  // The copy is independent of the source.
  const uint8_t x = 0;
  m.write(a, 0, &x, 1);
  EXPECT_EQ(read_page(m, b)[0], pat[0]);
  // Copying a never-written page (or the zero page) wipes the destination.
  m.copy_page(b, c);
  EXPECT_TRUE(all_bytes(read_page(m, b), 0));
  m.write(b, 0, pat.data(), kPageSize);
  m.copy_page(b, m.zero_pfn());
  EXPECT_TRUE(all_bytes(read_page(m, b), 0));
  m.clear_page(a);
  EXPECT_TRUE(all_bytes(read_page(m, a), 0));
  EXPECT_TRUE(m.valid(a));
}

TEST(PhysMem, AllocContiguousFindsLowestFreeRun) {
  PhysMem m(16);
  const Pfn a = m.alloc(), b = m.alloc(), c = m.alloc();  // 1, 2, 3
  ASSERT_EQ(c, 3u);
  m.put(b);  // hole of one frame at 2
  (void)a;
  const uint64_t before = m.free_frames();
  const Pfn run = m.alloc_contiguous(3);
  EXPECT_EQ(run, 4u);  // 2 alone is too short
  EXPECT_EQ(m.free_frames(), before - 3);
  for (Pfn f = 4; f < 7; ++f) {
    EXPECT_TRUE(m.valid(f));
    EXPECT_EQ(m.refcount(f), 1u);
  }
  // The run left the free list: the next allocs skip it.
  EXPECT_EQ(m.alloc(), 2u);
  EXPECT_EQ(m.alloc(), 7u);
  EXPECT_EQ(m.s_allocs, 3u + 3u + 2u);
}

TEST(PhysMem, AllocContiguousFailsWithoutARun) {
  PhysMem m(8);
  std::vector<Pfn> p;
  for (int i = 0; i < 7; ++i) p.push_back(m.alloc());
  m.put(p[1]);  // 2
  m.put(p[3]);  // 4
  m.put(p[5]);  // 6
  EXPECT_EQ(m.alloc_contiguous(2), kNoPfn);
  EXPECT_EQ(m.free_frames(), 3u);
  EXPECT_EQ(m.alloc_contiguous(1), 2u);
  m.put(p[4]);  // 4,5,6 free now
  EXPECT_EQ(m.alloc_contiguous(3), 4u);
  EXPECT_EQ(m.free_frames(), 0u);
  EXPECT_EQ(m.alloc(), kNoPfn);
}

TEST(PhysMem, ContiguousFramesAreZeroed) {
  PhysMem m(4);
  const Pfn p = m.alloc();
  std::vector<uint8_t> junk(kPageSize, 0x11);
  m.write(p, 0, junk.data(), kPageSize);
  m.put(p);
  const Pfn run = m.alloc_contiguous(3);
  ASSERT_EQ(run, 1u);
  for (Pfn f = run; f < run + 3; ++f) EXPECT_TRUE(all_bytes(read_page(m, f), 0)) << f;
}

TEST(PhysMem, PhysicalAddresses) {
  EXPECT_EQ(PhysMem::pa(0), 0u);
  EXPECT_EQ(PhysMem::pa(3), 3u * 4096u);
  EXPECT_EQ(PhysMem::pfn_of(3 * 4096 + 4095), 3u);
  EXPECT_EQ(PhysMem::pfn_of(PhysMem::pa(123456)), 123456u);
}

TEST(PhysMem, OutOfMemoryIsCountedAndNotified) {
  PhysMem m(4);  // 3 frames besides the zero page
  std::vector<uint64_t> asked;
  m.set_oom_notifier([&](uint64_t frames) {
    asked.push_back(frames);
    EXPECT_EQ(m.free_frames(), frames == 1 ? 0u : 1u);  // called before kNoPfn goes back
  });
  EXPECT_EQ(m.alloc_contiguous(2), 1u);
  EXPECT_EQ(m.used_frames(), 3u);  // the zero page counts
  EXPECT_EQ(m.alloc_contiguous(2), kNoPfn);
  EXPECT_EQ(m.alloc(), 3u);
  EXPECT_EQ(m.alloc(), kNoPfn);
  EXPECT_EQ(asked, (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(m.s_alloc_failures, 2u);
  // Not out of memory: a THP allocation falls back to 4 KiB pages, and an
  // injected failure is a test's doing.
  EXPECT_EQ(m.alloc_huge(), kNoPfn);
  m.put(3);
  m.fail_next_allocs(1);
  EXPECT_EQ(m.alloc(), kNoPfn);
  EXPECT_EQ(asked.size(), 2u);
  EXPECT_EQ(m.s_alloc_failures, 2u);
  // Without a notifier the failure is only counted.
  m.set_oom_notifier(nullptr);
  EXPECT_EQ(m.alloc(), 3u);
  EXPECT_EQ(m.alloc(), kNoPfn);
  EXPECT_EQ(m.s_alloc_failures, 3u);
  EXPECT_EQ(m.used_frames(), 4u);
}
