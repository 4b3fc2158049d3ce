// Eviction policies: every registered implementation through one contract
// (a newly registered policy is covered by adding it to the registry), then
// each one's own order.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "host/gpu_driver/eviction_policy.h"
#include "host/gpu_driver/va_block.h"

using namespace hmmsim::host;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t k64K = 64ull << 10;
constexpr uint64_t kB = kBlockBytes;
// A high, 2 MiB-aligned base so the policies' shifts see realistic VAs.
constexpr uint64_t kBase = 0x7f0000000000ull;

uint64_t blk(uint64_t i) { return kBase + i * kB; }
uint64_t page(uint64_t block, size_t i) { return blk(block) + i * kPage; }

using Unit = std::pair<uint64_t, uint64_t>;  // va, bytes: comparable and printable
std::optional<Unit> unit(const std::optional<EvictUnit>& u) {
  if (!u) return std::nullopt;
  return Unit{u->va, u->bytes};
}

std::unique_ptr<IEvictionPolicy> make(const std::string& impl, uint64_t seed = 1, double threshold = 0.5) {
  EvictionSpec s;
  s.impl = impl;
  s.seed = seed;
  s.threshold = threshold;
  return eviction_registry().make(impl, s);
}

// A policy plus the set of pages the driver would hold resident, so every
// call the policy sees is one the driver makes (each page once in, once out).
struct Harness {
  std::unique_ptr<IEvictionPolicy> p;
  std::set<uint64_t> resident;

  explicit Harness(std::unique_ptr<IEvictionPolicy> policy) : p(std::move(policy)) {}
  void add(uint64_t va) {
    if (resident.insert(va).second) p->on_resident(va);
  }
  void release(uint64_t va) {
    if (resident.erase(va)) p->on_released(va);
  }
  size_t resident_in(uint64_t va, uint64_t bytes) const {
    return size_t(std::distance(resident.lower_bound(va), resident.lower_bound(va + bytes)));
  }
  size_t resident_outside(uint64_t exclude) const { return resident.size() - resident_in(exclude, kB); }
  void release_unit(const EvictUnit& u) {
    auto lo = resident.lower_bound(u.va), hi = resident.lower_bound(u.va + u.bytes);
    std::vector<uint64_t> pages(lo, hi);
    for (uint64_t va : pages) release(va);
  }
};

::testing::AssertionResult valid_unit(const EvictUnit& u, uint64_t exclude, const Harness& h) {
  if (u.bytes < kPage || u.bytes > kB || (u.bytes & (u.bytes - 1)) != 0)
    return ::testing::AssertionFailure() << "size " << u.bytes << " is not a power of two in [4 KiB, 2 MiB]";
  if (u.va % u.bytes != 0)
    return ::testing::AssertionFailure() << "va 0x" << std::hex << u.va << " not aligned to 0x" << u.bytes;
  if (block_of(u.va) == exclude)
    return ::testing::AssertionFailure() << "unit 0x" << std::hex << u.va << " lies in the excluded block";
  if (h.resident_in(u.va, u.bytes) == 0)
    return ::testing::AssertionFailure() << "unit 0x" << std::hex << u.va << "+0x" << u.bytes
                                         << " holds no resident page";
  return ::testing::AssertionSuccess();
}

// Takes victims outside `exclude` until there are none, releasing every
// resident page of each one as the driver does. Each unit must be valid, and
// the policy must run dry exactly when nothing outside `exclude` is left.
void drain(Harness& h, uint64_t exclude, std::vector<Unit>* order = nullptr) {
  const size_t bound = h.resident.size() + 1;  // each victim frees >= 1 page
  for (size_t i = 0; i <= bound; ++i) {
    auto v = h.p->victim(exclude);
    if (!v) {
      ASSERT_EQ(h.resident_outside(exclude), 0u) << "ran dry with pages still resident outside the excluded block";
      return;
    }
    ASSERT_TRUE(valid_unit(*v, exclude, h));
    if (order) order->push_back(*unit(v));
    h.release_unit(*v);
  }
  FAIL() << "victim() did not run dry after " << bound << " victims";
}

// Pages of `nblocks` blocks, each in one of several patterns: full, sparse,
// dense, whole 64 KiB groups, a single page or nothing; in random order.
std::vector<uint64_t> scenario(std::mt19937_64& rng, uint64_t nblocks) {
  std::vector<uint64_t> pages;
  std::uniform_real_distribution<double> u(0, 1);
  for (uint64_t b = 0; b < nblocks; ++b) {
    const int pattern = int(rng() % 6);
    for (size_t i = 0; i < kBlockPages; ++i) {
      bool in = false;
      switch (pattern) {
        case 0: in = true; break;
        case 1: in = u(rng) < 0.05; break;
        case 2: in = u(rng) < 0.6; break;
        case 3: in = (i / kBigPagePages) % 5 == rng() % 5; break;
        case 4: in = i == 37; break;
        default: break;
      }
      if (in) pages.push_back(page(b, i));
    }
  }
  std::shuffle(pages.begin(), pages.end(), rng);
  return pages;
}

}  // namespace

// ---- Contract: every registered implementation -----------------------------

class EvictionContract : public ::testing::TestWithParam<std::string> {
 protected:
  Harness fresh(uint64_t seed = 1) const { return Harness(make(GetParam(), seed)); }
};

TEST_P(EvictionContract, NoVictimWhenNothingIsResident) {
  Harness h = fresh();
  EXPECT_FALSE(h.p->victim(0).has_value());
  EXPECT_FALSE(h.p->victim(blk(3)).has_value());
  h.add(page(2, 0));
  h.add(page(2, 200));
  h.release(page(2, 0));
  h.release(page(2, 200));
  EXPECT_FALSE(h.p->victim(0).has_value()) << "pages released: nothing left to evict";
}

TEST_P(EvictionContract, NoVictimWhenOnlyTheExcludedBlockIsResident) {
  Harness h = fresh();
  for (size_t i : {0, 1, 17, 100, 511}) h.add(page(4, i));
  h.p->on_access(page(4, 17));
  EXPECT_FALSE(h.p->victim(blk(4)).has_value());
  auto v = h.p->victim(blk(5));  // another block is being filled: block 4 may go
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(valid_unit(*v, blk(5), h));
}

TEST_P(EvictionContract, VictimsAreValidAndRunDryExactlyWhenNothingOutsideTheExcludedBlockIsLeft) {
  for (uint64_t trial = 0; trial < 24; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    std::mt19937_64 rng(trial);
    Harness h = fresh(trial + 1);
    for (uint64_t va : scenario(rng, 6)) {
      h.add(va);
      if (rng() % 4 == 0) h.p->on_access(*std::next(h.resident.begin(), long(rng() % h.resident.size())));
    }
    // The excluded block: one of the populated ones, or one never touched.
    const uint64_t exclude = blk(trial % 3 == 0 ? 9 : rng() % 6);
    // Some victims, with more residency and accesses between them...
    for (int i = 0; i < 8; ++i) {
      auto v = h.p->victim(exclude);
      if (!v) break;
      ASSERT_TRUE(valid_unit(*v, exclude, h));
      h.release_unit(*v);
      h.add(page(rng() % 7, rng() % kBlockPages));
      if (!h.resident.empty())
        h.p->on_access(*std::next(h.resident.begin(), long(rng() % h.resident.size())));
    }
    // ...then until it runs dry; afterwards the excluded block can go too.
    ASSERT_NO_FATAL_FAILURE(drain(h, exclude));
    ASSERT_NO_FATAL_FAILURE(drain(h, blk(100)));
    EXPECT_TRUE(h.resident.empty());
    EXPECT_FALSE(h.p->victim(0).has_value());
  }
}

TEST_P(EvictionContract, VictimDoesNotChangeWhatIsResident) {
  // Asking twice without releasing anything must not lose pages: the same
  // pages are still offered until released.
  Harness h = fresh();
  for (size_t i = 0; i < 64; ++i) h.add(page(i % 4, i * 7 % kBlockPages));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(h.p->victim(blk(1)).has_value());
  ASSERT_NO_FATAL_FAILURE(drain(h, blk(1)));
}

// BUG (fifo, lru, random; the 2 MiB block policies in eviction_policy.cpp):
// BlockOrder counts resident pages per block instead of remembering which,
// so an on_released for a page that is not resident still decrements the
// count and can drop a block whose other pages are still in VRAM. Input:
// on_resident(A = block1 + 0), on_resident(B = block1 + 4 KiB),
// on_resident(C = block3), on_released(B) twice [or on_released of the
// never-resident block1 + 32 KiB]; expected victims cover block1 (A is
// resident) and block3; got: block3, then none while A is still resident.
// The driver does make such calls: GpuDriver::evict_one releases every page
// of a victim that freed nothing, and untrack_resident releases those pages
// again when they finally leave VRAM. An evicting driver then fails to free
// VRAM that is in use by an untracked block.
TEST_P(EvictionContract, ReleasingAPageTwiceIsHarmless) {
  Harness h = fresh();
  const uint64_t a = page(1, 0), b = page(1, 1), c = page(3, 0);
  h.add(a);
  h.add(b);
  h.add(c);
  h.release(b);
  h.p->on_released(b);  // again, behind the harness's back
  ASSERT_NO_FATAL_FAILURE(drain(h, 0));
}

// BUG (fifo, lru, random): see ReleasingAPageTwiceIsHarmless.
TEST_P(EvictionContract, ReleasingAnUnknownPageIsHarmless) {
  Harness h = fresh();
  const uint64_t a = page(1, 0), b = page(1, 1), c = page(3, 0);
  h.add(a);
  h.add(b);
  h.add(c);
  h.p->on_released(page(1, 8));    // never resident, in a resident block (another 64 KiB group)
  h.p->on_released(page(1, 2));    // never resident, same 64 KiB group as a and b
  h.p->on_released(page(7, 0));    // never resident, in a block never seen
  h.p->on_released(page(3, 1));    // never resident, beside c
  ASSERT_NO_FATAL_FAILURE(drain(h, 0));
}

TEST_P(EvictionContract, SameSeedSameVictims) {
  auto run = [&](uint64_t seed) {
    std::mt19937_64 rng(99);  // same script for both runs
    Harness h = fresh(seed);
    for (uint64_t va : scenario(rng, 8)) {
      h.add(va);
      if (rng() % 3 == 0) h.p->on_access(va);
    }
    std::vector<Unit> order;
    for (int i = 0; i < 6; ++i) {
      auto v = h.p->victim(blk(2));
      if (!v) break;
      order.push_back(*unit(v));
      h.release_unit(*v);
      h.add(page(rng() % 8, rng() % kBlockPages));
    }
    drain(h, blk(2), &order);
    return order;
  };
  const auto first = run(5);
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, run(5));
}

// BUG (fifo, random; latent): BlockOrder::on_access touches the block
// whatever m_lru says, so fifo and random reorder on GPU accesses although
// they report wants_accesses() == false and the header says fifo's order
// never changes on access. Input: on_resident(block5), on_resident(block2),
// on_resident(block9), on_access(block5); expected victim(0) = block5 (first
// resident); got block2. Masked today because sim/platform.cpp only wires
// the access fan-out when wants_gpu_accesses(), but GpuDriver::note_gpu_access
// forwards unconditionally.
TEST_P(EvictionContract, AccessesAreHarmlessToAPolicyThatDoesNotWantThem) {
  if (make(GetParam())->wants_accesses()) GTEST_SKIP() << "policy orders by accesses";
  // The driver may skip on_access for such a policy: results must not depend on it.
  auto run = [&](bool accesses) {
    std::mt19937_64 rng(3);
    Harness h = fresh(11);
    for (uint64_t va : scenario(rng, 6)) {
      h.add(va);
      if (accesses) h.p->on_access(*h.resident.begin());
    }
    std::vector<Unit> order;
    drain(h, blk(0), &order);
    return order;
  };
  EXPECT_EQ(run(false), run(true));
}

INSTANTIATE_TEST_SUITE_P(Registered, EvictionContract, ::testing::ValuesIn(eviction_registry().names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(EvictionPolicy, RegistryHoldsTheDocumentedImplementations) {
  EXPECT_EQ(eviction_registry().names(), (std::vector<std::string>{"fifo", "lru", "lru4k", "random", "tbn"}));
  EXPECT_FALSE(make("fifo")->wants_accesses());
  EXPECT_FALSE(make("random")->wants_accesses());
  EXPECT_TRUE(make("lru")->wants_accesses());
  EXPECT_TRUE(make("lru4k")->wants_accesses());
  EXPECT_TRUE(make("tbn")->wants_accesses());
}

// ---- fifo --------------------------------------------------------------------

// BUG (latent): fails today; see AccessesAreHarmlessToAPolicyThatDoesNotWantThem.
TEST(EvictionPolicy, FifoEvictsBlocksInFirstResidencyOrderWhateverTheAccesses) {
  Harness h(make("fifo"));
  h.add(page(5, 0));
  h.add(page(2, 10));
  h.add(page(9, 3));
  h.add(page(5, 300));  // more of block 5 later: it keeps its place
  for (int i = 0; i < 10; ++i) h.p->on_access(page(5, 0));
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(5), kB));
  EXPECT_EQ(unit(h.p->victim(blk(5))), Unit(blk(2), kB));
  // Block 5 leaves; back in VRAM later it is the youngest.
  h.release(page(5, 0));
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(5), kB)) << "one page of block 5 is still resident";
  h.release(page(5, 300));
  h.add(page(5, 1));
  std::vector<Unit> order;
  drain(h, 0, &order);
  EXPECT_EQ(order, (std::vector<Unit>{{blk(2), kB}, {blk(9), kB}, {blk(5), kB}}));
}

// ---- lru ---------------------------------------------------------------------

TEST(EvictionPolicy, LruEvictsTheLeastRecentlyAccessedBlock) {
  Harness h(make("lru"));
  h.add(page(5, 0));
  h.add(page(2, 0));
  h.add(page(9, 0));
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(5), kB));
  h.p->on_access(page(5, 77));  // any page of the block counts
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(2), kB));
  h.p->on_access(page(2, 0));
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(9), kB));
  EXPECT_EQ(unit(h.p->victim(blk(9))), Unit(blk(5), kB)) << "the excluded block is skipped";
  h.p->on_access(page(9, 0));
  h.p->on_access(page(3, 0));  // a block that is not resident: ignored
  std::vector<Unit> order;
  drain(h, 0, &order);
  EXPECT_EQ(order, (std::vector<Unit>{{blk(5), kB}, {blk(2), kB}, {blk(9), kB}}));
}

// ---- lru4k -------------------------------------------------------------------

TEST(EvictionPolicy, Lru4kEvictsTheLeastRecentlyAccessedPage) {
  Harness h(make("lru4k"));
  const uint64_t a = page(1, 3), b = page(1, 4), c = page(2, 100), d = page(1, 500);
  for (uint64_t va : {a, b, c, d}) h.add(va);
  EXPECT_EQ(unit(h.p->victim(0)), Unit(a, kPage));
  h.p->on_access(a);
  h.p->on_access(c);
  // Order now b, d, a, c.
  EXPECT_EQ(unit(h.p->victim(0)), Unit(b, kPage));
  EXPECT_EQ(unit(h.p->victim(blk(1))), Unit(c, kPage)) << "pages of the excluded block are skipped";
  std::vector<Unit> order;
  drain(h, 0, &order);
  EXPECT_EQ(order, (std::vector<Unit>{{b, kPage}, {d, kPage}, {a, kPage}, {c, kPage}}));
}

// ---- random ------------------------------------------------------------------

TEST(EvictionPolicy, RandomOrderDependsOnTheSeed) {
  auto order = [](uint64_t seed) {
    Harness h(make("random", seed));
    for (uint64_t b = 0; b < 16; ++b) h.add(page(b, b));
    std::vector<Unit> o;
    drain(h, blk(99), &o);
    return o;
  };
  const auto one = order(1), two = order(2);
  EXPECT_EQ(one.size(), 16u);
  EXPECT_EQ(one, order(1));
  EXPECT_NE(one, two);
}

TEST(EvictionPolicy, RandomChoosesUniformlyAmongResidentBlocks) {
  std::map<uint64_t, int> first;
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    Harness h(make("random", seed));
    for (uint64_t b = 0; b < 5; ++b) h.add(page(b, 0));
    auto v = h.p->victim(blk(2));  // four candidates besides the excluded one
    ASSERT_TRUE(v.has_value());
    ASSERT_NE(v->va, blk(2));
    ++first[v->va];
  }
  ASSERT_EQ(first.size(), 4u);
  for (auto& [va, n] : first) {
    EXPECT_GE(n, 60) << "block 0x" << std::hex << va << " chosen first too rarely";
    EXPECT_LE(n, 140) << "block 0x" << std::hex << va << " chosen first too often";
  }
}

// ---- tbn ---------------------------------------------------------------------
// The victim is the least recently used 64 KiB basic block; while the rest of
// its parent node holds fewer than threshold x parent pages, it widens to the
// parent (eviction_policy.cpp, TreeNeighbourhood::victim).

namespace {
void add_pages(Harness& h, uint64_t b, size_t first, size_t n) {
  for (size_t i = first; i < first + n; ++i) h.add(page(b, i));
}
}  // namespace

TEST(EvictionPolicy, TbnEvictsOneBasicBlockWhenItsNeighbourIsDense) {
  Harness h(make("tbn"));
  add_pages(h, 3, 0, 16);   // basic block 0: the least recently used
  add_pages(h, 3, 16, 16);  // basic block 1: its sibling, 16 >= 0.5 x 32 resident
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3), k64K));
}

TEST(EvictionPolicy, TbnWidensWhileTheRestOfTheNodeIsSparse) {
  Harness h(make("tbn"));
  add_pages(h, 3, 0, 16);   // bb 0, LRU
  add_pages(h, 3, 16, 15);  // bb 1: 15 < 16, so the 128 KiB node goes whole
  add_pages(h, 3, 32, 32);  // bb 2-3: 32 >= 0.5 x 64, so it stops at 128 KiB
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3), 2 * k64K));
  h.release_unit({blk(3), 2 * k64K});
  // Now bb 2 is the LRU with a full sibling: 64 KiB alone.
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3) + 2 * k64K, k64K));
}

TEST(EvictionPolicy, TbnTakesTheWholeBlockAroundALoneBasicBlock) {
  Harness h(make("tbn"));
  h.add(page(3, 5));
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3), kB));
}

TEST(EvictionPolicy, TbnStopsBelowAFullHalf) {
  Harness h(make("tbn"));
  h.add(page(3, 0));             // bb 0, LRU, alone in the first 1 MiB
  add_pages(h, 3, 256, 256);     // the second 1 MiB, full: 256 >= 0.5 x 512
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3), kB / 2));
  // One page fewer in the second half and the whole block goes.
  Harness g(make("tbn"));
  g.add(page(3, 0));
  add_pages(g, 3, 256, 255);
  EXPECT_EQ(unit(g.p->victim(0)), Unit(blk(3), kB));
}

TEST(EvictionPolicy, TbnWidensFromTheMiddleToAnAlignedSubtree) {
  Harness h(make("tbn"));
  add_pages(h, 6, 80, 16);  // bb 5: LRU
  add_pages(h, 6, 64, 3);   // bb 4, its sibling: 3 < 16, so widen to [64, 96)
  add_pages(h, 6, 96, 32);  // bb 6-7: 32 >= 32, so stop at the 128 KiB node [64, 128)
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(6) + 64 * kPage, 2 * k64K));
}

TEST(EvictionPolicy, TbnThresholdComesFromTheSpec) {
  // threshold 0.25: a sibling with 8 of the parent's 32 pages is enough.
  Harness h(make("tbn", 1, 0.25));
  add_pages(h, 3, 0, 16);
  add_pages(h, 3, 16, 8);
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3), k64K));
  h.release(page(3, 23));  // 7 < 8: widen to 128 KiB; pages 32-63 hold 16 >= 0.25 x 64
  add_pages(h, 3, 32, 16);
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3), 2 * k64K));
}

TEST(EvictionPolicy, TbnOrdersBasicBlocksByLastAccessAndSkipsTheExcludedBlock) {
  Harness h(make("tbn"));
  add_pages(h, 3, 0, 32);  // bb 0 and 1, both dense
  add_pages(h, 4, 0, 32);
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3), k64K));
  h.p->on_access(page(3, 7));
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3) + k64K, k64K));
  EXPECT_EQ(unit(h.p->victim(blk(3))), Unit(blk(4), k64K));
  // A basic block stays in the order while any of its pages is resident.
  for (size_t i = 16; i < 31; ++i) h.release(page(3, i));
  EXPECT_EQ(unit(h.p->victim(0)), Unit(blk(3) + k64K, k64K)) << "page 31 is still resident";
}
