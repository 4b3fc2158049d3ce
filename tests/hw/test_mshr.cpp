// MshrFile and PortSchedule (hw/tlb/mshr_file.h): merging, capacity stalls
// and per-cycle port counting, in ns of simulated time. Plain C++.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

#include "hw/tlb/mshr_file.h"

using hmmsim::hw::MshrFile;
using hmmsim::hw::PortSchedule;

TEST(MshrFile, SecondMissToTheSamePageMergesWhileTheFillIsInFlight) {
  MshrFile m(4);
  double t = 100;
  const uint32_t id = m.allocate(0x5123, t);
  EXPECT_EQ(t, 100.0);
  m.complete(id, 0x5000, 12, 300);
  EXPECT_EQ(m.pending(0x5000, 150), 300.0);
  EXPECT_EQ(m.pending(0x5FFF, 100), 300.0);   // from the entry's start ...
  EXPECT_EQ(m.pending(0x5ABC, 299.5), 300.0);
  EXPECT_EQ(m.pending(0x5000, 300), -1.0);     // ... until its fill is ready
  EXPECT_EQ(m.pending(0x5000, 99.5), -1.0);    // nor before it was allocated
  EXPECT_EQ(m.pending(0x6000, 150), -1.0);     // another page
  EXPECT_EQ(m.pending(0x4FFF, 150), -1.0);
  EXPECT_EQ(m.s_allocations, 1u);
  EXPECT_EQ(m.s_stalls, 0u);
}

TEST(MshrFile, AFilledLargePageMergesEvery4KiBPageInsideIt) {
  MshrFile m(4);
  double t = 0;
  uint32_t id = m.allocate(0x13000, t);  // a miss to one 4 KiB page ...
  m.complete(id, 0x10000, 16, 200);      // ... whose walk found a 64 KiB page
  EXPECT_EQ(m.pending(0x10000, 50), 200.0);
  EXPECT_EQ(m.pending(0x1F000, 50), 200.0);
  EXPECT_EQ(m.pending(0x1FFFF, 50), 200.0);
  EXPECT_EQ(m.pending(0x20000, 50), -1.0);
  EXPECT_EQ(m.pending(0xF000, 50), -1.0);

  t = 10;
  id = m.allocate(0x401000, t);
  m.complete(id, 0x400000, 21, 500);
  EXPECT_EQ(m.pending(0x400000, 20), 500.0);
  EXPECT_EQ(m.pending(0x5FF000, 20), 500.0);
  EXPECT_EQ(m.pending(0x600000, 20), -1.0);
  EXPECT_EQ(m.pending(0x3FF000, 20), -1.0);
  EXPECT_EQ(m.pending(0x5FF000, 5), -1.0);  // before that miss arrived
}

TEST(MshrFile, AnEntryCoversOnly4KiBUntilItCompletes) {
  MshrFile m(4);
  double t = 0;
  uint32_t a = m.allocate(0x10000, t);
  m.complete(a, 0x10000, 12, 100);
  EXPECT_EQ(m.pending(0x11000, 50), -1.0);  // the fill was a 4 KiB page
  EXPECT_EQ(m.pending(0x10000, 50), 100.0);
}

TEST(MshrFile, FullFileStallsToTheFirstFreeEntry) {
  MshrFile m(2);
  double t = 0;
  uint32_t a = m.allocate(0x1000, t);
  m.complete(a, 0x1000, 12, 100);  // busy [0, 100)
  t = 10;
  uint32_t b = m.allocate(0x2000, t);
  EXPECT_EQ(t, 10.0);
  m.complete(b, 0x2000, 12, 50);  // busy [10, 50)
  t = 20;
  uint32_t c = m.allocate(0x3000, t);  // both busy: waits for b
  EXPECT_EQ(t, 50.0);
  EXPECT_EQ(m.s_stalls, 1u);
  EXPECT_EQ(m.s_stall_ns, 30.0);
  m.complete(c, 0x3000, 12, 200);  // busy [50, 200)
  t = 60;
  m.allocate(0x4000, t);  // a and c busy: waits for a
  EXPECT_EQ(t, 100.0);
  EXPECT_EQ(m.s_stalls, 2u);
  EXPECT_EQ(m.s_stall_ns, 70.0);
  EXPECT_EQ(m.s_allocations, 4u);
}

TEST(MshrFile, StallCanWaitForSeveralEntriesInTurn) {
  MshrFile m(1);
  double t = 0;
  uint32_t a = m.allocate(0x1000, t);
  m.complete(a, 0x1000, 12, 100);  // [0, 100)
  t = 100;
  uint32_t b = m.allocate(0x2000, t);
  EXPECT_EQ(t, 100.0);
  m.complete(b, 0x2000, 12, 300);  // [100, 300)
  t = 50;                          // a requester behind in local time
  m.allocate(0x3000, t);           // waits for a, then finds b busy at 100
  EXPECT_EQ(t, 300.0);
  EXPECT_EQ(m.s_stalls, 1u);  // one miss that stalled, through two fills
  EXPECT_EQ(m.s_stall_ns, 250.0);
}

TEST(MshrFile, FutureEntriesAndUnfinishedChainsDoNotBlock) {
  MshrFile m(1);
  double t = 100;
  uint32_t a = m.allocate(0x1000, t);
  m.complete(a, 0x1000, 12, 200);  // [100, 200)
  t = 50;  // before that entry started: free
  uint32_t b = m.allocate(0x2000, t);
  EXPECT_EQ(t, 50.0);
  EXPECT_EQ(m.s_stalls, 0u);
  // b is not complete yet (its miss is still descending): a further
  // allocation at its time does not wait for it forever.
  t = 60;
  m.allocate(0x3000, t);
  EXPECT_EQ(t, 60.0);
  EXPECT_EQ(m.s_stalls, 0u);
  m.complete(b, 0x2000, 12, 80);
}

TEST(MshrFile, AFillReadyBeforeItStartsIsNeverBusy) {
  MshrFile m(1);
  double t = 100;
  const uint32_t a = m.allocate(0x1000, t);
  m.complete(a, 0x1000, 12, 50);  // ready before its start: busy over an empty interval
  for (double at : {60.0, 100.0, 120.0}) {
    double u = at;
    const uint32_t b = m.allocate(0x2000, u);
    EXPECT_EQ(u, at);
    m.complete(b, 0x2000, 12, at);  // done at once: never busy either
  }
  EXPECT_EQ(m.s_stalls, 0u);
}

// The file against the plain definition (every remembered entry scanned at
// every step) on random out-of-order arrivals, as temporally decoupled SMs
// make them: the same times, stalls and merges.
TEST(MshrFile, SweepsAsTheDefinitionSays) {
  struct Ref {
    uint32_t cap;
    size_t keep;
    struct E {
      uint64_t base, bytes;
      double start, ready;
    };
    std::vector<E> e;
    size_t head = 0;
    double max_ready = -1;
    uint64_t stalls = 0;
    double stall_ns = 0;
    size_t allocate(uint64_t va, double& t) {
      const double inf = std::numeric_limits<double>::infinity();
      while (head < e.size() && e[head].ready != inf && (e[head].ready < t - 2000 || e.size() - head >= keep)) ++head;
      bool stalled = false;
      while (t < max_ready) {
        uint32_t busy = 0;
        double first = inf;
        for (size_t i = head; i < e.size(); ++i)
          if (e[i].start <= t && t < e[i].ready) ++busy, first = std::min(first, e[i].ready);
        if (busy < cap || first == inf) break;
        stalls += !stalled;
        stalled = true;
        stall_ns += first - t;
        t = first;
      }
      e.push_back({va & ~0xFFFull, 4096, t, inf});
      return e.size() - 1;
    }
    double pending(uint64_t va, double t) const {
      if (t >= max_ready) return -1;
      for (size_t i = head; i < e.size(); ++i)
        if (va - e[i].base < e[i].bytes && e[i].start <= t && t < e[i].ready) return e[i].ready;
      return -1;
    }
  };
  for (uint32_t cap : {1u, 4u, 16u, 64u}) {
    SCOPED_TRACE(cap);
    MshrFile m(cap);
    Ref ref{cap, std::max<size_t>(4 * size_t(cap), 32), {}, 0, -1, 0, 0};
    std::mt19937_64 rng(cap);
    double now = 0;
    // Some entries stay unfinished over the next allocation (a miss still
    // descending the levels while another arrives).
    struct Held {
      uint64_t id;
      size_t rid;
      uint64_t va;
      double t;
    };
    std::vector<Held> held;
    auto finish = [&](const Held& h) {
      const double ready = h.t + (rng() % 4 ? 20 + double(rng() % 800) : 1 + double(rng() % 10));  // some quick
      const unsigned shift = rng() % 8 ? 12 : 16;
      m.complete(h.id, h.va & ~((1ull << shift) - 1), shift, ready);
      ref.e[h.rid] = {h.va & ~((1ull << shift) - 1), 1ull << shift, ref.e[h.rid].start, ready};
      ref.max_ready = std::max(ref.max_ready, ready);
    };
    for (int i = 0; i < 20000; ++i) {
      now += double(rng() % (80 / cap + 1));  // busier for larger files: each one fills
      const uint64_t va = (rng() % 512) << 12;
      double t = now + double(rng() % 1000) - 500, u = t;  // requesters up to 500 ns apart
      const uint64_t id = m.allocate(va, t);
      const size_t rid = ref.allocate(va, u);
      ASSERT_EQ(t, u) << i;
      for (const Held& h : held) finish(h);
      held.clear();
      if (rng() % 8 == 0)
        held.push_back({id, rid, va, t});
      else
        finish({id, rid, va, t});
      const uint64_t probe = (rng() % 512) << 12;
      const double when = now + double(rng() % 1000) - 500;
      ASSERT_EQ(m.pending(probe, when), ref.pending(probe, when)) << i;
    }
    EXPECT_EQ(m.s_stalls, ref.stalls);
    EXPECT_EQ(m.s_stall_ns, ref.stall_ns);
    EXPECT_GT(m.s_stalls, 0u);
  }
}

TEST(MshrFile, OldEntriesArePrunedWithoutLosingRecentOnes) {
  MshrFile m(2);
  double t = 0;
  // Far more completed entries than the file keeps around.
  for (int i = 0; i < 100; ++i) {
    t = i * 10.0;
    uint32_t id = m.allocate(0x1000ull * i, t);
    m.complete(id, 0x1000ull * i, 12, t + 5);
  }
  t = 1'000'000;  // far beyond the pruning horizon
  uint32_t id = m.allocate(0x999000, t);
  EXPECT_EQ(t, 1'000'000.0);
  m.complete(id, 0x999000, 12, 1'000'100);
  EXPECT_EQ(m.pending(0x999000, 1'000'050), 1'000'100.0);
  double u = 1'000'010;
  uint32_t id2 = m.allocate(0xAAA000, u);
  m.complete(id2, 0xAAA000, 12, 1'000'020);
  EXPECT_EQ(m.pending(0xAAA000, 1'000'015), 1'000'020.0);
  EXPECT_EQ(m.pending(0x999000, 1'000'015), 1'000'100.0);
  EXPECT_EQ(m.s_stalls, 0u);
  EXPECT_EQ(m.s_allocations, 102u);
}

TEST(PortSchedule, NLookupsPerCycleThenTheNextCycle) {
  PortSchedule p(1.0, 2);
  EXPECT_EQ(p.reserve(10.25), 10.25);
  EXPECT_EQ(p.reserve(10.5), 10.5);
  EXPECT_EQ(p.reserve(10.75), 11.0);  // third in cycle 10
  EXPECT_EQ(p.s_wait_ns, 0.25);
  EXPECT_EQ(p.reserve(10.0), 11.0);   // cycle 10 full, one left in 11
  EXPECT_EQ(p.reserve(10.5), 12.0);   // 10 and 11 full
  EXPECT_EQ(p.s_wait_ns, 0.25 + 1.0 + 1.5);
  EXPECT_EQ(p.reserve(12.5), 12.5);   // second slot of cycle 12
  EXPECT_EQ(p.reserve(12.5), 13.0);
}

TEST(PortSchedule, OneLookupPerCycleOfAHalfNanosecondClock) {
  PortSchedule p(0.5, 1);
  EXPECT_EQ(p.reserve(1.25), 1.25);  // cycle 2
  EXPECT_EQ(p.reserve(1.25), 1.5);
  EXPECT_EQ(p.reserve(1.0), 2.0);    // cycles 2 and 3 taken
  EXPECT_EQ(p.s_wait_ns, 0.25 + 1.0);
}

TEST(PortSchedule, OutOfOrderArrivalsDoNotQueueBehindFutureOnes) {
  PortSchedule p(1.0, 1);
  EXPECT_EQ(p.reserve(100), 100.0);
  EXPECT_EQ(p.reserve(100), 101.0);
  EXPECT_EQ(p.reserve(50), 50.0);  // behind in local time: its own cycle is free
  EXPECT_EQ(p.reserve(99), 99.0);
  EXPECT_EQ(p.reserve(99), 102.0);  // 99, 100, 101 taken
  EXPECT_EQ(p.s_wait_ns, 1.0 + 3.0);
}
