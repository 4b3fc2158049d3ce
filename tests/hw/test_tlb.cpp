// TLB cores (hw/tlb/): organisations (unified, split), replacement policies
// (lru, fifo, random), the set array's scan and hash-index paths, page sizes
// and invalidation. Plain C++: no SystemC kernel.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hw/tlb/tlb.h"
#include "hw/tlb/tlb_replacement.h"
#include "hw/tlb/tlb_set_array.h"
#include "tests/hw/tlb_test_support.h"

using namespace hmmsim::hw;
using hmmsim::tlbtest::spec;
using hmmsim::tlbtest::tr;

namespace {

constexpr uint64_t kK4 = 0x1000, kK64 = 0x10000, kM2 = 0x200000;

// 4 KiB page number -> VA.
uint64_t pg(uint64_t n) { return n * kK4; }

bool hits(ITlb& t, uint64_t va) { return t.lookup(va) != nullptr; }

}  // namespace

// ---- registries and spec validation ----------------------------------------

TEST(TlbRegistry, ListsBuiltInOrganisationsAndPolicies) {
  EXPECT_EQ(tlb_registry().names(), (std::vector<std::string>{"split", "unified"}));
  EXPECT_EQ(tlb_registry().names_text(), "split, unified");
  EXPECT_EQ(tlb_registry().kind(), "TLB organisation");
  EXPECT_EQ(tlb_replacement_registry().names(), (std::vector<std::string>{"fifo", "lru", "random"}));
  EXPECT_TRUE(tlb_registry().has("unified"));
  EXPECT_FALSE(tlb_registry().has("Unified"));
  try {
    tlb_registry().make("banked", TlbSpec{});
    FAIL() << "no throw";
  } catch (const hmmsim::common::UnknownImpl& e) {
    EXPECT_STREQ(e.what(), "unknown TLB organisation 'banked'; registered: split, unified");
  }
}

TEST(TlbSpecValidate, DefaultsAndGoodGeometriesAreValid) {
  EXPECT_FALSE(TlbSpec{}.validate().has_value());
  EXPECT_FALSE(spec("split", "fifo", 64, 4).validate().has_value());
  EXPECT_FALSE(spec("unified", "random", 64, 0).validate().has_value());   // fully associative
  EXPECT_FALSE(spec("unified", "lru", 64, 64).validate().has_value());     // ways == entries
  EXPECT_FALSE(spec("unified", "lru", 12, 3).validate().has_value());      // 4 sets, not a power of two ways
  TlbSpec u = spec("unified", "lru", 8, 2);
  u.entries_64k = 0;  // only split uses it
  u.entries_2m = 0;
  EXPECT_FALSE(u.validate().has_value());
}

TEST(TlbSpecValidate, BadGeometryGivesKeyAndMessage) {
  struct Case {
    TlbSpec s;
    const char* key;
    const char* message;
  };
  std::vector<Case> cases;
  cases.push_back({spec("unified", "lru", 0, 0), "entries", "must be at least 1"});
  cases.push_back({spec("unified", "lru", 8, 16), "ways", "exceeds entries (use 0 for fully associative)"});
  cases.push_back({spec("unified", "lru", 12, 8), "ways", "entries must be a multiple of ways"});
  TlbSpec s = spec("unified", "lru", 8, 2);
  s.lookups_per_cycle = 0;
  cases.push_back({s, "lookups_per_cycle", "must be at least 1"});
  s = spec("unified", "lru", 8, 2);
  s.mshrs = 0;
  cases.push_back({s, "mshrs", "must be at least 1"});
  s = spec("split", "lru", 8, 2);
  s.entries_64k = 0;
  cases.push_back({s, "entries_64k", "must be at least 1"});
  s = spec("split", "lru", 8, 2);
  s.entries_2m = 0;
  cases.push_back({s, "entries_2m", "must be at least 1"});
  for (const Case& c : cases) {
    auto err = c.s.validate();
    ASSERT_TRUE(err.has_value()) << c.key;
    EXPECT_EQ(err->key, c.key);
    EXPECT_EQ(err->message, c.message);
  }
}

TEST(TlbSpecValidate, UnknownNamesListTheRegisteredOnes) {
  auto e = spec("banked", "lru", 8, 2).validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "impl");
  EXPECT_EQ(e->message, "unknown implementation 'banked'; registered: split, unified");
  e = spec("unified", "mru", 8, 2).validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "replacement");
  EXPECT_EQ(e->message, "unknown implementation 'mru'; registered: fifo, lru, random");
  // The name is checked before the geometry.
  e = spec("banked", "lru", 0, 0).validate();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->key, "impl");
}

TEST(TlbSpecValidate, MakeTlbThrowsWithKeyAndMessage) {
  try {
    make_tlb(spec("unified", "lru", 12, 8));
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "TLB ways: entries must be a multiple of ways");
  }
  try {
    make_tlb(spec("unified", "plru", 8, 2));
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "TLB replacement: unknown implementation 'plru'; registered: fifo, lru, random");
  }
  EXPECT_NO_THROW(make_tlb(spec("split", "random", 8, 0)));
}

TEST(TlbSetArray, RejectsBadGeometryAndUnknownPolicy) {
  EXPECT_THROW(TlbSetArray(10, 4, "lru", 1), std::invalid_argument);
  EXPECT_THROW(TlbSetArray(0, 0, "lru", 1), std::invalid_argument);
  EXPECT_THROW(TlbSetArray(8, 2, "mru", 1), hmmsim::common::UnknownImpl);
  TlbSetArray a(12, 0, "lru", 1);
  EXPECT_EQ(a.entries(), 12u);
  EXPECT_EQ(a.valid(), 0u);
}

// ---- hit / miss sequences ---------------------------------------------------

TEST(UnifiedTlb, HitMissSequenceWithExactCounters) {
  auto t = make_tlb(spec("unified", "lru", 8, 2));  // 4 sets x 2 ways: page n -> set n % 4
  EXPECT_FALSE(hits(*t, pg(1)));
  t->insert(pg(1), tr(0xA000));
  const Translation* h = t->lookup(pg(1) + 0xFFF);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->pa, 0xA000u);
  EXPECT_EQ(h->pa_of(pg(1) + 0xABC), 0xAABCu);
  EXPECT_FALSE(hits(*t, pg(2)));

  // Pages 4, 8, 0, 12 all index set 0.
  t->insert(pg(4), tr(0x40000));
  t->insert(pg(8), tr(0x80000));
  EXPECT_EQ(t->c.evictions, 0u);
  t->insert(pg(0), tr(0x00000));  // evicts 4 (least recently filled/used)
  EXPECT_EQ(t->c.evictions, 1u);
  ASSERT_TRUE(hits(*t, pg(8)));   // 8 becomes MRU, 0 LRU
  t->insert(pg(12), tr(0xC0000));  // evicts 0
  EXPECT_EQ(t->c.evictions, 2u);

  EXPECT_TRUE(hits(*t, pg(8)));
  EXPECT_TRUE(hits(*t, pg(12)));
  EXPECT_FALSE(hits(*t, pg(0)));
  EXPECT_FALSE(hits(*t, pg(4)));
  EXPECT_TRUE(hits(*t, pg(1)));  // set 1 untouched
  EXPECT_EQ(t->valid_entries(), 3u);

  EXPECT_EQ(t->c.hits, 5u);
  EXPECT_EQ(t->c.misses, 4u);
  EXPECT_EQ(t->c.hits_by_size[0], 5u);
  EXPECT_EQ(t->c.hits_by_size[1], 0u);
  EXPECT_EQ(t->c.hits_by_size[2], 0u);
  EXPECT_EQ(t->c.fills[0], 5u);
  EXPECT_EQ(t->c.fills[1], 0u);
  EXPECT_EQ(t->c.invalidated, 0u);
}

TEST(UnifiedTlb, RefillOfACachedPageUpdatesItWithoutEviction) {
  auto t = make_tlb(spec("unified", "lru", 2, 2));
  t->insert(pg(3), tr(0x3000, 12, false));
  t->insert(pg(5), tr(0x5000));
  t->insert(pg(3), tr(0x9000, 12, true));  // e.g. the PTE was upgraded
  EXPECT_EQ(t->c.evictions, 0u);
  EXPECT_EQ(t->valid_entries(), 2u);
  EXPECT_EQ(t->c.fills[0], 3u);
  const Translation* h = t->lookup(pg(3));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->pa, 0x9000u);
  EXPECT_TRUE(h->writable);
  // The refill counts as a use: 5 is now the LRU victim.
  t->insert(pg(7), tr(0x7000));
  EXPECT_TRUE(hits(*t, pg(3)));
  EXPECT_FALSE(hits(*t, pg(5)));
}

TEST(SplitTlb, HitMissSequenceWithExactCounters) {
  TlbSpec s = spec("split", "lru", 8, 2);
  s.entries_64k = 2;
  s.entries_2m = 2;
  auto t = make_tlb(s);
  EXPECT_FALSE(hits(*t, 0x1234));
  t->insert(pg(1), tr(0x1000));
  t->insert(3 * kK64, tr(0x30000, 16));
  t->insert(5 * kM2, tr(0x40000000, 21));
  EXPECT_TRUE(hits(*t, pg(1) + 4));
  EXPECT_TRUE(hits(*t, 3 * kK64 + 0xFFFF));
  EXPECT_TRUE(hits(*t, 5 * kM2 + 0x123456));
  EXPECT_FALSE(hits(*t, 4 * kK64));
  EXPECT_FALSE(hits(*t, 6 * kM2));
  EXPECT_EQ(t->c.hits, 3u);
  EXPECT_EQ(t->c.misses, 3u);
  EXPECT_EQ(t->c.hits_by_size[0], 1u);
  EXPECT_EQ(t->c.hits_by_size[1], 1u);
  EXPECT_EQ(t->c.hits_by_size[2], 1u);
  EXPECT_EQ(t->c.fills[0], 1u);
  EXPECT_EQ(t->c.fills[1], 1u);
  EXPECT_EQ(t->c.fills[2], 1u);
  EXPECT_EQ(t->valid_entries(), 3u);
  // The 4 KiB array is 4 sets x 2 ways: pages 0, 4, 8 share set 0.
  t->insert(pg(0), tr(0));
  t->insert(pg(4), tr(0x4000));
  t->insert(pg(8), tr(0x8000));
  EXPECT_EQ(t->c.evictions, 1u);
  EXPECT_FALSE(hits(*t, pg(0)));
  EXPECT_TRUE(hits(*t, pg(4)));
  EXPECT_TRUE(hits(*t, pg(8)));
}

// ---- replacement policies ---------------------------------------------------

TEST(TlbReplacement, LruVictimIsLeastRecentlyUsed) {
  auto p = tlb_replacement_registry().make("lru", ReplacementGeometry{2, 4, 1});
  for (uint32_t w = 0; w < 4; ++w) p->on_fill(0, w);
  for (uint32_t w = 0; w < 4; ++w) p->on_fill(1, 3 - w);  // set 1: way 3 oldest
  p->on_hit(0, 0);
  p->on_hit(0, 2);
  EXPECT_EQ(p->victim(0), 1u);  // order now 1, 3, 0, 2
  p->on_fill(0, 1);
  EXPECT_EQ(p->victim(0), 3u);
  p->on_fill(0, 3);
  EXPECT_EQ(p->victim(0), 0u);
  p->on_hit(0, 0);
  EXPECT_EQ(p->victim(0), 2u);
  EXPECT_EQ(p->victim(1), 3u);  // sets are independent
}

TEST(TlbReplacement, FifoVictimIgnoresHits) {
  auto p = tlb_replacement_registry().make("fifo", ReplacementGeometry{1, 4, 1});
  for (uint32_t w = 0; w < 4; ++w) p->on_fill(0, w);
  p->on_hit(0, 0);
  p->on_hit(0, 1);
  EXPECT_EQ(p->victim(0), 0u);
  p->on_fill(0, 0);
  EXPECT_EQ(p->victim(0), 1u);
  p->on_fill(0, 1);
  EXPECT_EQ(p->victim(0), 2u);
  p->on_fill(0, 2);
  EXPECT_EQ(p->victim(0), 3u);
  p->on_fill(0, 3);
  EXPECT_EQ(p->victim(0), 0u);
}

TEST(TlbReplacement, RandomIsDeterministicPerSeedAndSeedsDiffer) {
  auto draw = [](uint64_t seed, uint32_t ways, int n) {
    auto p = tlb_replacement_registry().make("random", ReplacementGeometry{1, ways, seed});
    std::vector<uint32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(p->victim(0));
    return v;
  };
  // Pinned streams (seeded xorshift64): a change of generator shows here.
  EXPECT_EQ(draw(1, 4, 12), (std::vector<uint32_t>{1, 2, 2, 0, 0, 1, 3, 2, 3, 2, 1, 3}));
  EXPECT_EQ(draw(2, 4, 12), (std::vector<uint32_t>{3, 1, 0, 0, 1, 2, 3, 0, 3, 0, 2, 1}));
  EXPECT_EQ(draw(7, 4, 64), draw(7, 4, 64));
  EXPECT_NE(draw(1, 8, 64), draw(2, 8, 64));
  // Every way is a candidate, none is out of range.
  const auto v = draw(3, 8, 2000);
  std::vector<int> count(8, 0);
  for (uint32_t w : v) {
    ASSERT_LT(w, 8u);
    ++count[w];
  }
  for (int c : count) EXPECT_GT(c, 150);  // 250 expected each
}

// The same fill/hit sequence on a 4-entry, 1-set TLB under each policy:
// A B C D filled, A and C hit, then E F G filled.
std::set<uint64_t> survivors(const std::string& repl, uint64_t seed, uint64_t* evictions) {
  TlbSpec s = spec("unified", repl, 4, 4);
  s.seed = seed;
  auto t = make_tlb(s);
  for (uint64_t p = 0; p < 4; ++p) t->insert(pg(p), tr(pg(p)));
  EXPECT_TRUE(hits(*t, pg(0)));
  EXPECT_TRUE(hits(*t, pg(2)));
  for (uint64_t p = 4; p < 7; ++p) t->insert(pg(p), tr(pg(p)));
  std::set<uint64_t> in;
  for (uint64_t p = 0; p < 7; ++p)
    if (hits(*t, pg(p))) in.insert(p);
  *evictions = t->c.evictions;
  return in;
}

TEST(TlbReplacement, VictimOrderOnATlbDependsOnThePolicy) {
  uint64_t ev = 0;
  // LRU: B, D, then A (C was used last).
  EXPECT_EQ(survivors("lru", 1, &ev), (std::set<uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(ev, 3u);
  // FIFO: A, B, C in fill order, hits or not.
  EXPECT_EQ(survivors("fifo", 1, &ev), (std::set<uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(ev, 3u);
  // Random seed 1 picks ways 1, 2, 2: B, C, then F (which had replaced C).
  EXPECT_EQ(survivors("random", 1, &ev), (std::set<uint64_t>{0, 3, 4, 6}));
  EXPECT_EQ(ev, 3u);
  // Seed 2 picks ways 3, 1, 0: D, B, A.
  EXPECT_EQ(survivors("random", 2, &ev), (std::set<uint64_t>{2, 4, 5, 6}));
  EXPECT_EQ(survivors("random", 1, &ev), survivors("random", 1, &ev));
}

// ---- fully associative ------------------------------------------------------

TEST(FullyAssociativeTlb, WaysZeroHoldsPagesThatWouldConflictInASet) {
  auto t = make_tlb(spec("unified", "lru", 8, 0));
  for (uint64_t i = 0; i < 8; ++i) t->insert(pg(8 * i), tr(0x1000 * i));  // all tag % 8 == 0
  EXPECT_EQ(t->c.evictions, 0u);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(hits(*t, pg(8 * i))) << i;
  ASSERT_TRUE(hits(*t, pg(0)));  // page 8 becomes LRU
  t->insert(pg(100), tr(0x64000));
  EXPECT_EQ(t->c.evictions, 1u);
  EXPECT_FALSE(hits(*t, pg(8)));
  EXPECT_TRUE(hits(*t, pg(0)));
  EXPECT_TRUE(hits(*t, pg(100)));
  EXPECT_EQ(t->valid_entries(), 8u);
}

TEST(FullyAssociativeTlb, WideSetHashIndexHitsEvictsAndInvalidates) {
  auto t = make_tlb(spec("unified", "lru", 64, 0));  // 64 ways > 16: hash index
  auto va = [](uint64_t i) { return pg(i * 977 + 3); };
  for (uint64_t i = 0; i < 64; ++i) t->insert(va(i), tr(0x100000 + i * kK4));
  EXPECT_EQ(t->valid_entries(), 64u);
  EXPECT_EQ(t->c.evictions, 0u);
  for (uint64_t i = 0; i < 64; ++i) {
    if (i == 17) continue;
    const Translation* h = t->lookup(va(i) + 0x10);
    ASSERT_TRUE(h) << i;
    EXPECT_EQ(h->pa, 0x100000 + i * kK4);
  }
  EXPECT_FALSE(hits(*t, pg(5)));
  t->insert(pg(5), tr(0x5000));  // evicts 17, the only one not touched
  EXPECT_EQ(t->c.evictions, 1u);
  EXPECT_FALSE(hits(*t, va(17)));
  EXPECT_TRUE(hits(*t, pg(5)));
  EXPECT_TRUE(hits(*t, va(16)));
  EXPECT_EQ(t->valid_entries(), 64u);

  // Refill of a cached page: no eviction, new contents.
  t->insert(va(3), tr(0xDEAD000));
  EXPECT_EQ(t->c.evictions, 1u);
  ASSERT_TRUE(t->lookup(va(3)));
  EXPECT_EQ(t->lookup(va(3))->pa, 0xDEAD000u);

  // Invalidate frees a way: the next fill evicts nobody.
  t->invalidate(va(40), kK4);
  EXPECT_EQ(t->c.invalidated, 1u);
  EXPECT_EQ(t->valid_entries(), 63u);
  EXPECT_FALSE(hits(*t, va(40)));
  t->insert(pg(6), tr(0x6000));
  EXPECT_EQ(t->c.evictions, 1u);
  EXPECT_TRUE(hits(*t, pg(6)));
  EXPECT_EQ(t->valid_entries(), 64u);

  // Same tag value, different page sizes: distinct entries (4 KiB page 5
  // and the 2 MiB page 5 at 10 MiB).
  t->insert(5 * kM2, tr(0x40000000, 21));
  EXPECT_EQ(t->c.evictions, 2u);
  const Translation* small = t->lookup(pg(5));
  ASSERT_TRUE(small);
  EXPECT_EQ(small->shift, 12u);
  EXPECT_EQ(small->pa, 0x5000u);
  const Translation* huge = t->lookup(5 * kM2 + 0x1234);
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->shift, 21u);
  EXPECT_EQ(huge->pa, 0x40000000u);
}

TEST(FullyAssociativeTlb, WideSetsOfAMultiSetArrayKeepTheirOwnLru) {
  auto t = make_tlb(spec("unified", "lru", 128, 32));  // 4 sets x 32 ways, hash index
  auto in_set = [](uint32_t set, uint64_t k) { return pg(4 * k + set); };
  for (uint64_t k = 0; k < 32; ++k) t->insert(in_set(1, k), tr(k * kK4));
  ASSERT_TRUE(hits(*t, in_set(1, 0)));  // way 0 of set 1 becomes MRU: k = 1 is LRU
  // Set 0 overflows on its own.
  for (uint64_t k = 0; k < 40; ++k) t->insert(in_set(0, k), tr(k * kK4));
  EXPECT_EQ(t->c.evictions, 8u);
  for (uint64_t k = 0; k < 32; ++k) EXPECT_TRUE(hits(*t, in_set(1, k))) << k;
  EXPECT_FALSE(hits(*t, in_set(0, 0)));
  EXPECT_TRUE(hits(*t, in_set(0, 39)));
  // Refresh set 1 in order 1..31 then 0: 1 is LRU again.
  for (uint64_t k = 1; k < 32; ++k) ASSERT_TRUE(hits(*t, in_set(1, k)));
  ASSERT_TRUE(hits(*t, in_set(1, 0)));
  t->insert(in_set(1, 32), tr(0));
  EXPECT_EQ(t->c.evictions, 9u);
  EXPECT_FALSE(hits(*t, in_set(1, 1)));
  EXPECT_TRUE(hits(*t, in_set(1, 0)));
  EXPECT_TRUE(hits(*t, in_set(1, 2)));
  EXPECT_EQ(t->valid_entries(), 64u);
}

// ---- page sizes ------------------------------------------------------------

TEST(MixedPageSizes, UnifiedHoldsAllSizesAndLargePagesCoverTheirRange) {
  auto t = make_tlb(spec("unified", "lru", 16, 4));
  t->insert(0x1000, tr(0xA000, 12));
  t->insert(0x10000, tr(0x70000, 16));
  t->insert(0x200000, tr(0x4000000, 21));
  EXPECT_EQ(t->valid_entries(), 3u);
  EXPECT_EQ(t->c.fills[0], 1u);
  EXPECT_EQ(t->c.fills[1], 1u);
  EXPECT_EQ(t->c.fills[2], 1u);

  for (uint64_t va : {0x1000ull, 0x1FFFull}) {
    const Translation* h = t->lookup(va);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->shift, 12u);
  }
  for (uint64_t va : {0x10000ull, 0x15678ull, 0x1FFFFull}) {
    const Translation* h = t->lookup(va);
    ASSERT_TRUE(h) << std::hex << va;
    EXPECT_EQ(h->shift, 16u);
    EXPECT_EQ(h->pa_of(va), 0x70000 + (va & 0xFFFF));
  }
  for (uint64_t va : {0x200000ull, 0x2ABCDEull, 0x3FFFFFull}) {
    const Translation* h = t->lookup(va);
    ASSERT_TRUE(h) << std::hex << va;
    EXPECT_EQ(h->shift, 21u);
    EXPECT_EQ(h->pa_of(va), 0x4000000 + (va & 0x1FFFFF));
  }
  for (uint64_t va : {0x0ull, 0x2000ull, 0x20000ull, 0x400000ull}) EXPECT_FALSE(hits(*t, va)) << std::hex << va;
  EXPECT_EQ(t->c.hits, 8u);
  EXPECT_EQ(t->c.misses, 4u);
  EXPECT_EQ(t->c.hits_by_size[0], 2u);
  EXPECT_EQ(t->c.hits_by_size[1], 3u);
  EXPECT_EQ(t->c.hits_by_size[2], 3u);

  // A 4 KiB entry inside a cached 2 MiB page answers for its own 4 KiB
  // (probes go smallest first); the rest of the 2 MiB page still hits it.
  t->insert(0x201000, tr(0xB000, 12));
  ASSERT_TRUE(t->lookup(0x201010));
  EXPECT_EQ(t->lookup(0x201010)->pa, 0xB000u);
  ASSERT_TRUE(t->lookup(0x202000));
  EXPECT_EQ(t->lookup(0x202000)->shift, 21u);
}

TEST(MixedPageSizes, UnifiedLargePagesCompeteWithSmallOnes) {
  auto t = make_tlb(spec("unified", "lru", 4, 0));
  for (uint64_t p = 0; p < 4; ++p) t->insert(pg(p), tr(pg(p)));
  t->insert(kM2, tr(0x400000, 21));
  EXPECT_EQ(t->c.evictions, 1u);
  EXPECT_FALSE(hits(*t, pg(0)));
  EXPECT_TRUE(hits(*t, kM2 + 0x5000));
  EXPECT_EQ(t->valid_entries(), 4u);
}

TEST(MixedPageSizes, SplitKeepsAnArrayPerSize) {
  TlbSpec s = spec("split", "lru", 4, 0);
  s.entries_64k = 2;
  s.entries_2m = 2;
  auto t = make_tlb(s);
  for (uint64_t p = 0; p < 4; ++p) t->insert(pg(p), tr(pg(p)));
  t->insert(1 * kM2, tr(0x400000, 21));
  t->insert(2 * kM2, tr(0x600000, 21));
  t->insert(1 * kK64, tr(0x10000, 16));
  t->insert(2 * kK64, tr(0x20000, 16));
  EXPECT_EQ(t->c.evictions, 0u);
  EXPECT_EQ(t->valid_entries(), 8u);
  ASSERT_TRUE(hits(*t, 1 * kM2));  // 2 * kM2 becomes the LRU huge page
  t->insert(3 * kM2, tr(0x800000, 21));
  EXPECT_EQ(t->c.evictions, 1u);
  EXPECT_FALSE(hits(*t, 2 * kM2 + 0x1000));
  EXPECT_TRUE(hits(*t, 3 * kM2 + 0x1000));
  EXPECT_TRUE(hits(*t, 1 * kM2 + 0x1000));
  for (uint64_t p = 0; p < 4; ++p) EXPECT_TRUE(hits(*t, pg(p))) << p;
  EXPECT_TRUE(hits(*t, 1 * kK64 + 0x8000));
  EXPECT_TRUE(hits(*t, 2 * kK64 + 0x8000));
  EXPECT_EQ(t->c.hits_by_size[0], 4u);
  EXPECT_EQ(t->c.hits_by_size[1], 2u);
  EXPECT_EQ(t->c.hits_by_size[2], 3u);
}

// ---- invalidation ----------------------------------------------------------

class TlbInvalidate : public ::testing::TestWithParam<const char*> {
 protected:
  std::unique_ptr<ITlb> make() {
    TlbSpec s = spec(GetParam(), "lru", 16, 4);
    s.entries_64k = 4;
    s.entries_2m = 4;
    return make_tlb(s);
  }
};

TEST_P(TlbInvalidate, PartialRangeDropsTheWholeEntryOfEachSize) {
  auto t = make();
  t->insert(0x5000, tr(0x5000, 12));
  t->insert(0x6000, tr(0x6000, 12));
  t->insert(0x30000, tr(0x30000, 16));
  t->insert(0x600000, tr(0x600000, 21));
  t->insert(0x800000, tr(0x800000, 21));
  ASSERT_EQ(t->valid_entries(), 5u);

  // Ranges that only touch a neighbour's edge drop nothing.
  t->invalidate(0x5FF000, 0x1000);  // ends where the 2 MiB page at 6 MiB starts
  t->invalidate(0xA00000, 0x1000);  // starts where the one at 8 MiB ends
  t->invalidate(0x4000, 0x1000);
  t->invalidate(0x40000, 0x10000);
  t->invalidate(0x20000, 0x10000);
  EXPECT_EQ(t->c.invalidated, 0u);
  EXPECT_EQ(t->valid_entries(), 5u);

  t->invalidate(0x7FF000, 0x1000);  // the last 4 KiB of the 2 MiB page
  EXPECT_EQ(t->c.invalidated, 1u);
  EXPECT_FALSE(hits(*t, 0x600000));
  EXPECT_FALSE(hits(*t, 0x7FF000));
  EXPECT_TRUE(hits(*t, 0x800000));

  t->invalidate(0x3F000, 0x800);  // inside the 64 KiB page
  EXPECT_EQ(t->c.invalidated, 2u);
  EXPECT_FALSE(hits(*t, 0x30000));

  t->invalidate(0x5800, 1);  // one byte of a 4 KiB page
  EXPECT_EQ(t->c.invalidated, 3u);
  EXPECT_FALSE(hits(*t, 0x5000));
  EXPECT_TRUE(hits(*t, 0x6000));

  // One range across sizes: the 4 KiB page at 0x6000 and the 2 MiB page at 8 MiB.
  t->insert(0x30000, tr(0x30000, 16));
  t->invalidate(0x6000, 0x800000 - 0x6000 + 1);
  EXPECT_EQ(t->c.invalidated, 6u);
  EXPECT_EQ(t->valid_entries(), 0u);
}

TEST_P(TlbInvalidate, A2MiBRangeDropsTheSmallPagesInsideIt) {
  auto t = make();
  for (uint64_t p = 0x1FE; p < 0x202; ++p) t->insert(pg(p), tr(pg(p)));  // 0x1FE000 .. 0x201000
  t->invalidate(0x200000, kM2);
  EXPECT_EQ(t->c.invalidated, 2u);
  EXPECT_TRUE(hits(*t, pg(0x1FE)));
  EXPECT_TRUE(hits(*t, pg(0x1FF)));
  EXPECT_FALSE(hits(*t, pg(0x200)));
  EXPECT_FALSE(hits(*t, pg(0x201)));
}

TEST_P(TlbInvalidate, FullFlushDropsEverything) {
  auto t = make();
  for (uint64_t p = 0; p < 8; ++p) t->insert(pg(p), tr(pg(p)));
  t->insert(0x10000, tr(0x10000, 16));
  t->insert(0x400000, tr(0x400000, 21));
  ASSERT_EQ(t->valid_entries(), 10u);
  t->invalidate(0, 0);
  EXPECT_EQ(t->c.invalidated, 10u);
  EXPECT_EQ(t->valid_entries(), 0u);
  EXPECT_FALSE(hits(*t, pg(0)));
  EXPECT_FALSE(hits(*t, 0x10000));
  EXPECT_FALSE(hits(*t, 0x400000));
  // Refilling after the flush evicts nobody.
  for (uint64_t p = 0; p < 8; ++p) t->insert(pg(p), tr(pg(p)));
  EXPECT_EQ(t->c.evictions, 0u);
  EXPECT_EQ(t->valid_entries(), 8u);
  t->invalidate(0, 0);
  EXPECT_EQ(t->c.invalidated, 18u);
}

INSTANTIATE_TEST_SUITE_P(Impl, TlbInvalidate, ::testing::Values("unified", "split"));
