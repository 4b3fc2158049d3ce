// The GPU driver's other policy families (prefetch, replay, thrashing,
// placement): each registered implementation through its family's contract
// (parameterised over the registry, so a new one is covered automatically),
// then each one's documented behaviour. Eviction: test_eviction_policy.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/registry.h"
#include "host/gpu_driver/eviction_policy.h"
#include "host/gpu_driver/placement_policy.h"
#include "host/gpu_driver/prefetch_policy.h"
#include "host/gpu_driver/replay_policy.h"
#include "host/gpu_driver/thrashing_policy.h"
#include "host/gpu_driver/va_block.h"

using namespace hmmsim::host;

namespace {

auto param_name = [](const ::testing::TestParamInfo<std::string>& i) { return i.param; };

// ---- masks ---------------------------------------------------------------------

PageMask pages(std::initializer_list<size_t> idx) {
  PageMask m;
  for (size_t i : idx) m.set(i);
  return m;
}
PageMask range(size_t first, size_t n) { return page_range(first, n); }
PageMask all() { return PageMask().set(); }
PageMask big_pages(std::initializer_list<size_t> bps) {
  PageMask m;
  for (size_t b : bps) m |= range(b * kBigPagePages, kBigPagePages);
  return m;
}

// Clustered like real residency: each 64 KiB group empty, sparse, half or full.
PageMask clustered(std::mt19937_64& rng) {
  static constexpr double kDensity[] = {0.0, 0.0, 0.1, 0.5, 1.0};
  std::uniform_real_distribution<double> u(0, 1);
  PageMask m;
  for (size_t g = 0; g < kBlockPages; g += kBigPagePages) {
    const double d = kDensity[rng() % 5];
    for (size_t i = g; i < g + kBigPagePages; ++i)
      if (u(rng) < d) m.set(i);
  }
  return m;
}

PrefetchQuery random_query(std::mt19937_64& rng) {
  PrefetchQuery q;
  q.resident = clustered(rng);
  std::uniform_int_distribution<size_t> pg(0, kBlockPages - 1);
  for (size_t n = 1 + rng() % 8; n > 0; --n) q.faulted.set(pg(rng));
  if (rng() % 2) q.faulted &= ~q.resident;  // usually disjoint, but not always
  q.eligible = all();
  if (rng() % 3 == 0) q.eligible &= ~clustered(rng);  // thrashing / remote holes
  return q;
}

std::unique_ptr<IPrefetchPolicy> prefetcher(const std::string& impl, double threshold = 0.51) {
  PrefetchSpec s;
  s.impl = impl;
  s.threshold = threshold;
  return prefetch_registry().make(impl, s);
}

PrefetchQuery query(PageMask resident, PageMask faulted, PageMask eligible = all()) {
  return PrefetchQuery{resident, faulted, eligible};
}

}  // namespace

// ---- prefetch: contract ------------------------------------------------------

class PrefetchContract : public ::testing::TestWithParam<std::string> {};

TEST_P(PrefetchContract, SelectsOnlyEligiblePagesNotResidentNorFaulted) {
  auto p = prefetcher(GetParam());
  std::mt19937_64 rng(2024);
  for (int c = 0; c < 200; ++c) {
    SCOPED_TRACE("case " + std::to_string(c));
    const PrefetchQuery q = random_query(rng);
    const PageMask got = p->select(q);
    EXPECT_TRUE((got & ~q.eligible).none()) << "outside eligible: " << (got & ~q.eligible).count();
    EXPECT_TRUE((got & (q.resident | q.faulted)).none()) << "already resident or faulted";
    EXPECT_EQ(got, p->select(q)) << "same query, same answer";
  }
}

TEST_P(PrefetchContract, NothingFaultedNothingEligibleNothingSelected) {
  auto p = prefetcher(GetParam());
  EXPECT_TRUE(p->select(query(range(0, 100), range(100, 3), PageMask())).none());
  EXPECT_TRUE(p->select(query(all(), PageMask())).none());
}

INSTANTIATE_TEST_SUITE_P(Registered, PrefetchContract, ::testing::ValuesIn(prefetch_registry().names()), param_name);

// ---- prefetch: each implementation --------------------------------------------

TEST(PrefetchPolicy, RegistryHoldsTheDocumentedImplementations) {
  EXPECT_EQ(prefetch_registry().names(), (std::vector<std::string>{"none", "seq64k", "tbn", "uvm_tree"}));
}

TEST(PrefetchPolicy, NoneSelectsNothing) {
  auto p = prefetcher("none");
  std::mt19937_64 rng(5);
  for (int c = 0; c < 200; ++c) EXPECT_TRUE(p->select(random_query(rng)).none());
}

TEST(PrefetchPolicy, Seq64kTakesTheRestOfEachFaultedBigPage) {
  auto p = prefetcher("seq64k");
  // Faults at pages 5 and 40 (64 KiB groups 0 and 2), page 9 resident, 44 not eligible.
  PageMask eligible = all();
  eligible.reset(44);
  PageMask want = (range(0, 16) | range(32, 16)) & ~pages({5, 40, 9, 44});
  EXPECT_EQ(p->select(query(pages({9}), pages({5, 40}), eligible)), want);
  // The same rule over random queries.
  std::mt19937_64 rng(64);
  for (int c = 0; c < 200; ++c) {
    const PrefetchQuery q = random_query(rng);
    PageMask groups;
    for (size_t g = 0; g < kBlockPages; g += kBigPagePages)
      if ((q.faulted & range(g, kBigPagePages)).any()) groups |= range(g, kBigPagePages);
    EXPECT_EQ(p->select(q), groups & q.eligible & ~q.resident & ~q.faulted) << "case " << c;
  }
}

// uvm_tree (threshold 0.51): the faulted big pages, then for each fault the
// largest node on its leaf-to-root path with strictly more than 51 % of its
// pages resident-or-faulted (big pages widened) is filled.
TEST(PrefetchPolicy, UvmTreeOneFaultInAnEmptyBlockTakesItsBigPageOnly) {
  auto p = prefetcher("uvm_tree");
  // 16 of 32 set is 50 %: not more than 51 %, so the 128 KiB node is not taken.
  EXPECT_EQ(p->select(query({}, pages({0}))), range(1, 15));
  EXPECT_EQ(p->select(query({}, pages({200}))), range(192, 16) & ~pages({200}));
}

TEST(PrefetchPolicy, UvmTreeCountsResidentPagesOneByOne) {
  auto p = prefetcher("uvm_tree");
  // Fault at 0 (big page 0 set) plus one resident page in big page 1:
  // 17 of 32 > 16.32, so the 128 KiB node [0, 32) is taken; [0, 64) is 17/64.
  EXPECT_EQ(p->select(query(pages({16}), pages({0}))), range(0, 32) & ~pages({0, 16}));
}

TEST(PrefetchPolicy, UvmTreeFillsTheHalfBlockWhenMoreThan51PercentOfItIsSet) {
  auto p = prefetcher("uvm_tree");
  // 9 of the 16 big pages of the first 1 MiB resident (0, 1, 2, 4, 6, ..., 14),
  // fault in big page 15: 10 of 16 set. On the path from page 245:
  // [240,256) 16/16, [224,256) 32/32, [192,256) 48/64, [128,256) 80/128,
  // [0,256) 160/256 = 62.5 % all > 51 %; [0,512) 160/512 is not.
  const PageMask res = big_pages({0, 1, 2, 4, 6, 8, 10, 12, 14});
  EXPECT_EQ(p->select(query(res, pages({245}))), range(0, 256) & ~res & ~pages({245}));
  // The same 9 with the fault in big page 3 instead: path [48,64) 16/16,
  // [32,64) 32/32, [0,64) 64/64, [0,128) 96/128, [0,256) 160/256: same half.
  EXPECT_EQ(p->select(query(res, pages({50}))), range(0, 256) & ~res & ~pages({50}));
}

TEST(PrefetchPolicy, UvmTreeStopsAtExactlyHalf) {
  auto p = prefetcher("uvm_tree");
  // 7 resident big pages (0, 2, ..., 12) and a fault in big page 14: every
  // node above its big page is exactly half set ([224,256) 16/32,
  // [192,256) 32/64, [128,256) 64/128, [0,256) 128/256), so only the big page.
  const PageMask res = big_pages({0, 2, 4, 6, 8, 10, 12});
  EXPECT_EQ(p->select(query(res, pages({224}))), range(225, 15));
  // A lower threshold from the spec takes the half block: 128/256 > 49 %.
  EXPECT_EQ(prefetcher("uvm_tree", 0.49)->select(query(res, pages({224}))),
            range(0, 256) & ~res & ~pages({224}));
}

TEST(PrefetchPolicy, UvmTreeTakesTheWholeBlockPastHalfOfIt) {
  auto p = prefetcher("uvm_tree");
  // First 1 MiB resident, a fault at page 256: 272 of 512 > 261.12.
  EXPECT_EQ(p->select(query(range(0, 256), pages({256}))), range(257, 255));
  // The root is on every fault's path: one at the far end of the second half
  // skips the half-set levels below (16/32 ... 16/256) and takes the block too.
  EXPECT_EQ(p->select(query(range(0, 256), pages({511}))), range(256, 255));
}

TEST(PrefetchPolicy, UvmTreeWidensFaultsOnlyOverEligiblePages) {
  auto p = prefetcher("uvm_tree");
  // Pages 8-15 may not move: the big page counts 8 of 16 (not > 8.16), so the
  // largest node over 51 % is [0, 8).
  PageMask eligible = all() & ~range(8, 8);
  EXPECT_EQ(p->select(query({}, pages({0}), eligible)), range(1, 7));
}

TEST(PrefetchPolicy, UvmTreeGivesEachFaultItsOwnRegion) {
  auto p = prefetcher("uvm_tree");
  // A fault in an empty second half takes its big page; one in a 10/16 first
  // half takes the half.
  const PageMask res = big_pages({0, 1, 2, 3, 4, 5, 6, 7, 8});
  const PageMask want = (range(0, 256) & ~res & ~pages({150})) | (range(400, 16) & ~pages({407}));
  EXPECT_EQ(p->select(query(res, pages({150, 407}))), want);
}

// tbn (threshold 0.5): leaves are 64 KiB basic blocks, valid when any page
// is resident or in a faulted big page; level by level from the leaves, a
// node with more than half its leaves valid gets all of them, anywhere in
// the block.
TEST(PrefetchPolicy, TbnOneFaultInAnEmptyBlockTakesItsBasicBlockOnly) {
  auto p = prefetcher("tbn", 0.5);
  EXPECT_EQ(p->select(query({}, pages({0}))), range(1, 15));
  EXPECT_EQ(p->select(query({}, pages({300}))), range(288, 16) & ~pages({300}));
}

TEST(PrefetchPolicy, TbnFillsANodeMoreThanHalfValid) {
  auto p = prefetcher("tbn", 0.5);
  // Leaf 1 valid through one resident page, fault in leaf 0: 2 of 2 leaves,
  // so leaf 1 is filled; the 4-leaf node has 2 of 4, not more than half.
  EXPECT_EQ(p->select(query(pages({20}), pages({0}))), range(0, 32) & ~pages({0, 20}));
  // Leaves 0, 1, 2 valid: (0,1) full, (2,3) 1 of 2, then [0,4) 3 of 4: all four.
  EXPECT_EQ(p->select(query(pages({20, 40}), pages({0}))), range(0, 64) & ~pages({0, 20, 40}));
}

TEST(PrefetchPolicy, TbnFilledNodesCountAtTheNextLevel) {
  auto p = prefetcher("tbn", 0.5);
  // Leaves 0, 1, 2, 4, 5, 6, 8 hold one resident page each and leaf 9 faults:
  // 8 of 16 leaves, only half of the 1 MiB node. Bottom-up: (0,1), (4,5),
  // (8,9) fill; [0,4) and [4,8) with 3 of 4 fill; [0,8) 8/8; [8,16) 2 of 8
  // stays; then [0,16) has 10 of 16 > 8: the whole first 1 MiB is filled.
  PageMask res;
  for (size_t leaf : {0, 1, 2, 4, 5, 6, 8}) res.set(leaf * kBigPagePages + 3);
  EXPECT_EQ(p->select(query(res, pages({150}))), range(0, 256) & ~res & ~pages({150}));
}

TEST(PrefetchPolicy, TbnFillsDenseNodesOffTheFaultsPath) {
  auto p = prefetcher("tbn", 0.5);
  // Leaves 20-22 resident (3 of the 4-leaf node [20,24)); the fault is far
  // away in leaf 0. The whole tree is balanced, so leaf 23 comes too.
  const PageMask res = pages({20 * 16, 21 * 16, 22 * 16 + 15});
  const PageMask want = (range(1, 15) | range(20 * 16, 64)) & ~res;
  EXPECT_EQ(p->select(query(res, pages({0}))), want);
}

TEST(PrefetchPolicy, TbnRespectsEligible) {
  auto p = prefetcher("tbn", 0.5);
  const PageMask eligible = all() & ~range(16, 16);
  EXPECT_EQ(p->select(query(pages({20}), pages({0}), eligible)), range(1, 15));
}

TEST(PrefetchPolicy, TbnDefault51PercentActsAs50OnItsPowerOfTwoNodes) {
  // Nodes of 2..32 leaves: "> 0.51 n" and "> 0.5 n" need the same count.
  auto a = prefetcher("tbn", 0.5), b = prefetcher("tbn");
  std::mt19937_64 rng(51);
  for (int c = 0; c < 200; ++c) {
    const PrefetchQuery q = random_query(rng);
    EXPECT_EQ(a->select(q), b->select(q)) << "case " << c;
  }
}

// ---- replay ------------------------------------------------------------------

namespace {
std::unique_ptr<IReplayPolicy> replayer(const std::string& impl, double ratio = 0.5) {
  ReplaySpec s;
  s.impl = impl;
  s.update_put_ratio = ratio;
  return replay_registry().make(impl, s);
}
}  // namespace

class ReplayContract : public ::testing::TestWithParam<std::string> {};

TEST_P(ReplayContract, ReplaysSomewhereAndFlushesOnlyBeforeABatchReplay) {
  auto p = replayer(GetParam());
  EXPECT_TRUE(p->after_block() || p->after_batch() || p->at_end());
  if (p->after_batch()) return;
  for (uint32_t d : {0u, 5u, 10u}) EXPECT_EQ(p->flush(BatchSummary{10, d}), FlushMode::None);
}

INSTANTIATE_TEST_SUITE_P(Registered, ReplayContract, ::testing::ValuesIn(replay_registry().names()), param_name);

TEST(ReplayPolicy, EachImplementationReplaysWhereTheHeaderSays) {
  struct Row { const char* impl; bool block, batch, end, flushes; };
  const Row table[] = {
      {"block", true, false, false, false},
      {"batch", false, true, false, false},
      {"batch_flush", false, true, false, true},
      {"once", false, false, true, false},
  };
  std::vector<std::string> names;
  for (const Row& r : table) {
    SCOPED_TRACE(r.impl);
    names.push_back(r.impl);
    auto p = replayer(r.impl);
    EXPECT_EQ(p->after_block(), r.block);
    EXPECT_EQ(p->after_batch(), r.batch);
    EXPECT_EQ(p->at_end(), r.end);
    EXPECT_EQ(p->flush(BatchSummary{100, 10}) != FlushMode::None, r.flushes);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(replay_registry().names(), names);
}

TEST(ReplayPolicy, BatchFlushRereadsPutOnlyPastTheDuplicateRatio) {
  auto p = replayer("batch_flush");
  EXPECT_EQ(p->flush(BatchSummary{100, 50}), FlushMode::CachedPut) << "50 % is not more than 50 %";
  EXPECT_EQ(p->flush(BatchSummary{100, 51}), FlushMode::UpdatePut);
  EXPECT_EQ(p->flush(BatchSummary{100, 0}), FlushMode::CachedPut);
  EXPECT_EQ(p->flush(BatchSummary{100, 100}), FlushMode::UpdatePut);
  EXPECT_EQ(p->flush(BatchSummary{0, 0}), FlushMode::CachedPut) << "an empty batch";
  EXPECT_EQ(p->flush(BatchSummary{3, 1}), FlushMode::CachedPut);
  EXPECT_EQ(p->flush(BatchSummary{3, 2}), FlushMode::UpdatePut);
  // The ratio comes from the spec.
  auto q = replayer("batch_flush", 0.25);
  EXPECT_EQ(q->flush(BatchSummary{100, 25}), FlushMode::CachedPut);
  EXPECT_EQ(q->flush(BatchSummary{100, 26}), FlushMode::UpdatePut);
}

// ---- thrashing ---------------------------------------------------------------

namespace {
constexpr uint64_t kNs = 1000;  // ps
constexpr uint64_t kUs = 1000 * kNs;
constexpr uint64_t kVa = 0x7f0000123000ull;

ThrashingSpec tspec(const std::string& impl, uint32_t threshold = 3) {
  ThrashingSpec s;
  s.impl = impl;
  s.threshold = threshold;
  return s;
}
std::unique_ptr<IThrashingPolicy> thrasher(const ThrashingSpec& s) { return thrashing_registry().make(s.impl, s); }
Processor other(Processor p) { return p == Processor::Cpu ? Processor::Gpu : Processor::Cpu; }
uint64_t ps(double ns) { return uint64_t(ns) * kNs; }

// `n` migrations of kVa alternating from `first`, `gap` apart, after `t`;
// returns the time of the last.
uint64_t ping_pong(IThrashingPolicy& p, uint64_t t, int n, uint64_t gap, Processor first = Processor::Cpu) {
  for (int i = 0; i < n; ++i, first = other(first)) p.on_migration(kVa, first, t += gap);
  return t;
}
}  // namespace

class ThrashingContract : public ::testing::TestWithParam<std::string> {};

TEST_P(ThrashingContract, APageThatNeverMigratedIsLeftAlone) {
  auto p = thrasher(tspec(GetParam()));
  EXPECT_FALSE(p->is_thrashing(kVa, 5 * kUs));
  EXPECT_EQ(p->on_gpu_fault(kVa, 5 * kUs), ThrashHint::None);
}

TEST_P(ThrashingContract, MigrationsToOneProcessorOnlyNeverThrash) {
  for (Processor to : {Processor::Gpu, Processor::Cpu}) {
    auto p = thrasher(tspec(GetParam()));
    uint64_t t = 0;
    for (int i = 0; i < 100; ++i) {
      p->on_migration(kVa, to, t += kUs);
      ASSERT_FALSE(p->is_thrashing(kVa, t)) << "migration " << i;
      ASSERT_EQ(p->on_gpu_fault(kVa, t + kNs), ThrashHint::None);
    }
    EXPECT_EQ(p->stats().s_detected, 0u);
    EXPECT_EQ(p->stats().s_events, 100u);
  }
}

TEST_P(ThrashingContract, PingPongWithinTheLapseIsDetectedAfterThresholdEvents) {
  for (uint32_t threshold : {1u, 2u, 3u, 5u}) {
    SCOPED_TRACE("threshold " + std::to_string(threshold));
    auto p = thrasher(tspec(GetParam(), threshold));
    uint64_t t = 100 * kUs;
    // First touch on the GPU: not tracked, so not an event of the sequence.
    p->on_migration(kVa, Processor::Gpu, t);
    EXPECT_FALSE(p->is_thrashing(kVa, t));
    Processor to = Processor::Cpu;
    for (uint32_t k = 1; k <= threshold + 2; ++k, to = other(to)) {
      p->on_migration(kVa, to, t += 10 * kUs);
      EXPECT_EQ(p->is_thrashing(kVa, t), k >= threshold) << "after tracked event " << k;
    }
    EXPECT_EQ(p->stats().s_detected, 1u);
    EXPECT_EQ(p->stats().s_events, threshold + 3);
    EXPECT_FALSE(p->is_thrashing(kVa + 4096, t)) << "other pages are unaffected";
  }
}

TEST_P(ThrashingContract, MigrationsMoreThanALapseApartNeverThrash) {
  ThrashingSpec s = tspec(GetParam());
  auto p = thrasher(s);
  const uint64_t gap = ps(s.lapse_ns) + kNs;
  uint64_t t = 0;
  Processor to = Processor::Cpu;
  for (int i = 0; i < 40; ++i, to = other(to)) {
    p->on_migration(kVa, to, t += gap);
    ASSERT_FALSE(p->is_thrashing(kVa, t)) << "migration " << i;
    ASSERT_EQ(p->on_gpu_fault(kVa, t + kNs), ThrashHint::None);
  }
  EXPECT_EQ(p->stats().s_detected, 0u);
}

TEST_P(ThrashingContract, APageIsForgottenAfterAnEpochWithoutEvents) {
  ThrashingSpec s = tspec(GetParam());
  auto p = thrasher(s);
  uint64_t t = ping_pong(*p, 0, 3, 10 * kUs);
  ASSERT_TRUE(p->is_thrashing(kVa, t));
  t += ps(s.epoch_ns) + kNs;
  EXPECT_FALSE(p->is_thrashing(kVa, t));
  EXPECT_EQ(p->on_gpu_fault(kVa, t), ThrashHint::None);
  // It takes `threshold` fresh events to thrash again.
  t = ping_pong(*p, t, 2, 10 * kUs);
  EXPECT_FALSE(p->is_thrashing(kVa, t));
  t = ping_pong(*p, t, 1, 10 * kUs);
  EXPECT_TRUE(p->is_thrashing(kVa, t));
}

INSTANTIATE_TEST_SUITE_P(Registered, ThrashingContract, ::testing::ValuesIn(thrashing_registry().names()),
                         param_name);

TEST(ThrashingPolicy, EachResponseGivesOnlyItsOwnHints) {
  struct Row { const char* impl; bool throttles, pins; };
  const Row table[] = {{"none", false, false}, {"pin", false, true}, {"throttle", true, false}, {"uvm", true, true}};
  std::vector<std::string> names;
  for (const Row& r : table) {
    SCOPED_TRACE(r.impl);
    names.push_back(r.impl);
    auto p = thrasher(tspec(r.impl));
    uint64_t t = ping_pong(*p, 0, 3, 10 * kUs);
    std::set<ThrashHint> seen;
    for (int i = 0; i < 2000; ++i) seen.insert(p->on_gpu_fault(kVa, t += 100 * kUs));  // 200 ms
    EXPECT_EQ(seen.count(ThrashHint::Throttle) != 0, r.throttles);
    EXPECT_EQ(seen.count(ThrashHint::Pin) != 0, r.pins);
    EXPECT_EQ(p->stats().s_throttled != 0, r.throttles);
    EXPECT_EQ(p->stats().s_pinned != 0, r.pins);
  }
  EXPECT_EQ(thrashing_registry().names(), names);
}

TEST(ThrashingPolicy, ThrottleNapsThenServices) {
  ThrashingSpec s = tspec("throttle");
  auto p = thrasher(s);
  const uint64_t t = ping_pong(*p, 0, 3, 10 * kUs) + kUs, nap = ps(s.nap_ns);
  EXPECT_EQ(p->on_gpu_fault(kVa, t), ThrashHint::Throttle);
  EXPECT_EQ(p->on_gpu_fault(kVa, t + nap / 2), ThrashHint::Throttle);
  EXPECT_EQ(p->on_gpu_fault(kVa, t + nap - kNs), ThrashHint::Throttle);
  EXPECT_EQ(p->on_gpu_fault(kVa, t + nap), ThrashHint::None) << "the nap is over: serviced";
  EXPECT_EQ(p->stats().s_throttled, 3u);
  EXPECT_TRUE(p->is_thrashing(kVa, t + nap)) << "throttling does not end thrashing";
  // Still thrashing: the next fault starts another nap.
  EXPECT_EQ(p->on_gpu_fault(kVa, t + nap + kUs), ThrashHint::Throttle);
}

TEST(ThrashingPolicy, PinMapsRemotelyForThePinDurationThenMigratesAgain) {
  ThrashingSpec s = tspec("pin");
  auto p = thrasher(s);
  const uint64_t t = ping_pong(*p, 0, 3, 10 * kUs) + kUs, pin = ps(s.pin_ns);
  EXPECT_EQ(p->on_gpu_fault(kVa, t), ThrashHint::Pin);
  EXPECT_EQ(p->on_gpu_fault(kVa, t + pin / 2), ThrashHint::Pin);
  EXPECT_EQ(p->on_gpu_fault(kVa, t + pin - kNs), ThrashHint::Pin);
  EXPECT_EQ(p->on_gpu_fault(kVa, t + pin), ThrashHint::None);
  EXPECT_EQ(p->stats().s_pinned, 1u);
  EXPECT_EQ(p->stats().s_pinned_faults, 3u);
  // A pinned page starts afresh: `threshold` new events to thrash again.
  uint64_t u = ping_pong(*p, t + pin, 2, 10 * kUs);
  EXPECT_FALSE(p->is_thrashing(kVa, u));
  u = ping_pong(*p, u, 1, 10 * kUs, Processor::Cpu);
  EXPECT_TRUE(p->is_thrashing(kVa, u));
}

// BUG (pin, uvm; thrashing_policy.cpp, UvmThrashing::on_gpu_fault): pinning
// zeroes `consecutive`, so is_thrashing() is false for the whole pin. The
// prefetchers rely on it (block_service.cpp skips is_thrashing pages), so a
// neighbour's fault can prefetch the pinned page into VRAM, although the
// header says a pinned page "migrates no more meanwhile". Input: "pin",
// migrations C, G, C of a page 10 us apart, then on_gpu_fault at +1 us ->
// Pin; expected is_thrashing(page, +2 us) == true; got false.
TEST(ThrashingPolicy, APinnedPageCountsAsThrashingWhilePinned) {
  for (const char* impl : {"pin", "uvm"}) {
    SCOPED_TRACE(impl);
    ThrashingSpec s = tspec(impl);
    s.pin_threshold = 0;  // uvm: pin at once
    auto p = thrasher(s);
    const uint64_t t = ping_pong(*p, 0, 3, 10 * kUs) + kUs;
    ASSERT_EQ(p->on_gpu_fault(kVa, t), ThrashHint::Pin);
    EXPECT_TRUE(p->is_thrashing(kVa, t + kUs));
    EXPECT_TRUE(p->is_thrashing(kVa, t + ps(s.pin_ns) - kNs));
  }
}

// As UVM's get_hint_for_migration_thrashing, the pin check comes first: once
// the pin_threshold-th throttle period has started, the next fault pins
// (that last nap is cut short) instead of waiting for the nap to end.
TEST(ThrashingPolicy, UvmThrottlesPinThresholdPeriodsThenPins) {
  ThrashingSpec s = tspec("uvm");
  auto p = thrasher(s);
  const uint64_t nap = ps(s.nap_ns), pin = ps(s.pin_ns);
  uint64_t t = ping_pong(*p, 0, 3, 10 * kUs);
  for (uint32_t k = 1; k < s.pin_threshold; ++k) {
    SCOPED_TRACE("throttle period " + std::to_string(k));
    EXPECT_EQ(p->on_gpu_fault(kVa, t += kUs), ThrashHint::Throttle);
    EXPECT_EQ(p->on_gpu_fault(kVa, t + nap / 2), ThrashHint::Throttle);
    EXPECT_EQ(p->on_gpu_fault(kVa, t += nap), ThrashHint::None) << "the nap is over: serviced";
  }
  EXPECT_EQ(p->stats().s_pinned, 0u);
  EXPECT_EQ(p->on_gpu_fault(kVa, t += kUs), ThrashHint::Throttle) << "period pin_threshold";
  EXPECT_EQ(p->on_gpu_fault(kVa, t += kUs), ThrashHint::Pin);
  EXPECT_EQ(p->stats().s_pinned, 1u);
  EXPECT_EQ(p->stats().s_throttled, 2u * (s.pin_threshold - 1) + 1);
  EXPECT_EQ(p->on_gpu_fault(kVa, t + pin - kNs), ThrashHint::Pin);
  EXPECT_EQ(p->on_gpu_fault(kVa, t + pin), ThrashHint::None);
}

TEST(ThrashingPolicy, UvmForgetsThrottlePeriodsWithThePage) {
  ThrashingSpec s = tspec("uvm");
  s.pin_threshold = 2;
  auto p = thrasher(s);
  const uint64_t nap = ps(s.nap_ns);
  uint64_t t = ping_pong(*p, 0, 3, 10 * kUs) + kUs;
  ASSERT_EQ(p->on_gpu_fault(kVa, t), ThrashHint::Throttle);  // period 1
  ASSERT_EQ(p->on_gpu_fault(kVa, t += nap), ThrashHint::None);
  // An epoch later it thrashes again: two full periods before the pin.
  t = ping_pong(*p, t + ps(s.epoch_ns) + kNs, 3, 10 * kUs) + kUs;
  EXPECT_EQ(p->on_gpu_fault(kVa, t), ThrashHint::Throttle);
  EXPECT_EQ(p->on_gpu_fault(kVa, t += nap), ThrashHint::None);
  EXPECT_EQ(p->on_gpu_fault(kVa, t += kUs), ThrashHint::Throttle);  // period 2 of 2
  EXPECT_EQ(p->on_gpu_fault(kVa, t += kUs), ThrashHint::Pin);
}

// ---- placement ---------------------------------------------------------------

namespace {
std::unique_ptr<IPlacementPolicy> placer(const std::string& impl) {
  PlacementSpec s;
  s.impl = impl;
  return placement_registry().make(impl, s);
}
}  // namespace

class PlacementContract : public ::testing::TestWithParam<std::string> {};

TEST_P(PlacementContract, PreferredLocationOverridesThePolicy) {
  auto p = placer(GetParam());
  EXPECT_EQ(p->on_fault(PreferredLocation::Host), Where::Remote);
  EXPECT_EQ(p->on_fault(PreferredLocation::Device), Where::Vram);
}

INSTANTIATE_TEST_SUITE_P(Registered, PlacementContract, ::testing::ValuesIn(placement_registry().names()),
                         param_name);

TEST(PlacementPolicy, EachImplementationWithEachPreferredLocation) {
  struct Row {
    const char* impl;
    Where none, host, device;
    bool counters;
  };
  const Row table[] = {
      {"access_counter", Where::Remote, Where::Remote, Where::Vram, true},
      {"migrate", Where::Vram, Where::Remote, Where::Vram, false},
      {"remote_map", Where::Remote, Where::Remote, Where::Vram, false},
  };
  std::vector<std::string> names;
  for (const Row& r : table) {
    SCOPED_TRACE(r.impl);
    names.push_back(r.impl);
    auto p = placer(r.impl);
    EXPECT_EQ(p->on_fault(PreferredLocation::None), r.none);
    EXPECT_EQ(p->on_fault(PreferredLocation::Host), r.host);
    EXPECT_EQ(p->on_fault(PreferredLocation::Device), r.device);
    EXPECT_EQ(p->migrates_on_access_counters(), r.counters);
  }
  EXPECT_EQ(placement_registry().names(), names);
}

// ---- registries ----------------------------------------------------------------

namespace {
template <class Registry, class Spec>
void expect_unknown_rejected(const Registry& r, const Spec& spec) {
  SCOPED_TRACE(r.kind());
  ASSERT_FALSE(r.names().empty());
  try {
    r.make("no_such_impl", spec);
    ADD_FAILURE() << "make() accepted an unknown name";
  } catch (const hmmsim::common::UnknownImpl& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'no_such_impl'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(r.kind()), std::string::npos) << msg;
    EXPECT_NE(msg.find("registered: " + r.names_text()), std::string::npos) << msg;
    for (const std::string& n : r.names()) EXPECT_NE(msg.find(n), std::string::npos) << n << " not in: " << msg;
  }
  for (const std::string& n : r.names()) EXPECT_TRUE(r.make(n, spec) != nullptr) << n;
}
}  // namespace

TEST(PolicyRegistries, UnknownNamesThrowListingTheRegisteredOnes) {
  expect_unknown_rejected(eviction_registry(), EvictionSpec{});
  expect_unknown_rejected(prefetch_registry(), PrefetchSpec{});
  expect_unknown_rejected(replay_registry(), ReplaySpec{});
  expect_unknown_rejected(thrashing_registry(), ThrashingSpec{});
  expect_unknown_rejected(placement_registry(), PlacementSpec{});
  EXPECT_THROW(prefetch_registry().make("UVM_TREE", PrefetchSpec{}), hmmsim::common::UnknownImpl);  // case matters
}
