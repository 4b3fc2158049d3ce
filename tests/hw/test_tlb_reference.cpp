// TLB cores (hw/tlb/) against a simple reference model: random operations
// on several geometries, both organisations, LRU and FIFO, checking every
// answer and counter. Plain C++: no SystemC kernel.
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

// ---- randomised comparison with a reference model ---------------------------

namespace {

// A straightforward model of a set-associative array with LRU or FIFO:
// entries kept per set with an age stamp, no ways, no index.
class RefArray {
 public:
  RefArray(uint32_t entries, uint32_t ways, bool fifo)
      : m_ways(ways ? ways : entries), m_sets(entries / m_ways), m_fifo(fifo), m_set(m_sets) {}
  const Translation* find(uint64_t va, unsigned shift) {
    const uint64_t tag = va >> shift;
    for (auto& e : m_set[tag % m_sets])
      if (e.tag == tag && e.t.shift == shift) {
        if (!m_fifo) e.stamp = ++m_tick;
        return &e.t;
      }
    return nullptr;
  }
  bool insert(uint64_t va, const Translation& t) {
    const uint64_t tag = va >> t.shift;
    auto& s = m_set[tag % m_sets];
    for (auto& e : s)
      if (e.tag == tag && e.t.shift == t.shift) {
        e.t = t;
        e.stamp = ++m_tick;
        return false;
      }
    bool evicted = false;
    if (s.size() == m_ways) {
      size_t v = 0;
      for (size_t i = 1; i < s.size(); ++i)
        if (s[i].stamp < s[v].stamp) v = i;
      s.erase(s.begin() + static_cast<long>(v));
      evicted = true;
    }
    s.push_back(E{tag, t, ++m_tick});
    return evicted;
  }
  uint64_t invalidate(uint64_t va, uint64_t bytes) {
    uint64_t n = 0;
    for (auto& s : m_set)
      for (size_t i = 0; i < s.size();) {
        const uint64_t lo = s[i].tag << s[i].t.shift, hi = lo + s[i].t.bytes();
        if (bytes == 0 || (lo < va + bytes && va < hi)) {
          s.erase(s.begin() + static_cast<long>(i));
          ++n;
        } else {
          ++i;
        }
      }
    return n;
  }
  uint64_t valid() const {
    uint64_t n = 0;
    for (auto& s : m_set) n += s.size();
    return n;
  }

 private:
  struct E {
    uint64_t tag;
    Translation t;
    uint64_t stamp;
  };
  size_t m_ways, m_sets;
  bool m_fifo;
  std::vector<std::vector<E>> m_set;
  uint64_t m_tick = 0;
};

void compare_with_reference(const TlbSpec& s, uint64_t rng_seed) {
  auto tlb = make_tlb(s);
  const bool fifo = s.replacement == "fifo";
  const bool split = s.impl == "split";
  std::vector<RefArray> ref;
  if (split) {
    ref.emplace_back(s.entries, s.ways, fifo);
    ref.emplace_back(s.entries_64k, 0, fifo);
    ref.emplace_back(s.entries_2m, 0, fifo);
  } else {
    ref.emplace_back(s.entries, s.ways, fifo);
  }
  uint64_t evictions = 0, invalidated = 0, hits = 0;
  uint64_t x = rng_seed;
  auto rnd = [&x](uint64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x % n;
  };
  const uint64_t span = 16ull << 20;  // 16 MiB: plenty of conflicts
  for (int op = 0; op < 20000; ++op) {
    const uint64_t va = rnd(span);
    const unsigned kind = static_cast<unsigned>(rnd(1000));
    if (kind < 450) {  // lookup
      const Translation* want = nullptr;
      for (unsigned i = 0; i < kPageSizes && !want; ++i) want = ref[split ? i : 0].find(va, kPageShifts[i]);
      const Translation* got = tlb->lookup(va);
      ASSERT_EQ(got != nullptr, want != nullptr) << "op " << op;
      if (got) {
        ++hits;
        ASSERT_EQ(got->shift, want->shift) << "op " << op;
        ASSERT_EQ(got->pa, want->pa) << "op " << op;
      }
    } else if (kind < 960) {  // fill: 4 KiB mostly
      const unsigned sz = kind < 800 ? 0 : kind < 900 ? 1 : 2;
      const unsigned shift = kPageShifts[sz];
      const Translation t = tr((va >> shift << shift) + 0x100000000ull * (op % 7 + 1), shift);
      evictions += ref[split ? sz : 0].insert(va, t);
      tlb->insert(va, t);
    } else if (kind < 999) {  // invalidate a range of 4 KiB .. 2 MiB
      const uint64_t bytes = uint64_t(1) << (12 + rnd(10));
      for (auto& r : ref) invalidated += r.invalidate(va, bytes);
      tlb->invalidate(va, bytes);
    } else {
      for (auto& r : ref) invalidated += r.invalidate(0, 0);
      tlb->invalidate(0, 0);
    }
    uint64_t valid = 0;
    for (auto& r : ref) valid += r.valid();
    ASSERT_EQ(tlb->valid_entries(), valid) << "op " << op;
    ASSERT_EQ(tlb->c.evictions, evictions) << "op " << op;
    ASSERT_EQ(tlb->c.invalidated, invalidated) << "op " << op;
  }
  EXPECT_EQ(tlb->c.hits, hits);
  EXPECT_GT(hits, 500u);        // the mix exercised hits ...
  EXPECT_GT(evictions, 500u);   // ... evictions ...
  EXPECT_GT(invalidated, 200u);  // ... and invalidations
}

}  // namespace

TEST(TlbReference, RandomOperationsMatchAReferenceModel) {
  struct G {
    const char* impl;
    uint32_t entries, ways, e64, e2m;
  };
  const G geometries[] = {
      {"unified", 8, 2, 0, 0},     // scan path, 4 sets
      {"unified", 16, 16, 0, 0},   // widest scanned set
      {"unified", 17, 0, 0, 0},    // hash index, one set
      {"unified", 64, 0, 0, 0},    // hash index, one set
      {"unified", 128, 32, 0, 0},  // hash index, 4 sets
      {"unified", 24, 3, 0, 0},    // 8 sets of 3
      {"split", 32, 4, 4, 2},
      {"split", 64, 0, 20, 17},    // every array on the hash index
  };
  for (const G& g : geometries)
    for (const char* repl : {"lru", "fifo"}) {
      SCOPED_TRACE(std::string(g.impl) + " " + repl + " " + std::to_string(g.entries) + "/" +
                   std::to_string(g.ways));
      TlbSpec s = spec(g.impl, repl, g.entries, g.ways);
      if (g.e64) s.entries_64k = g.e64;
      if (g.e2m) s.entries_2m = g.e2m;
      compare_with_reference(s, 0x1234567 + g.entries);
      if (HasFatalFailure()) return;
    }
}
