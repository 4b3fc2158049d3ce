// Host cost of one translation through the hierarchy's plain-C++ core
// (hw/gmmu/translation_path.h), without SystemC: an L1 TLB hit, an L1 miss
// answered by the L2, a walk that the page-walk cache shortens to one read,
// and a walk from the top. Table reads come from an in-memory page table
// with a fixed latency, so only the model's own work is measured.
// items_per_second is translations per host second.
//
//   build/release/bench/hmm_bench --benchmark_filter=Translate
#include <benchmark/benchmark.h>

#include <cstring>
#include <unordered_map>

#include "hw/gmmu/translation_path.h"
#include "hwref/page_table_format.h"

namespace {

using namespace hmmsim;
namespace pt = hwref::pt;

// Page-table memory: 8-byte words by address, 20 ns per read.
class TableMemory : public hw::ITableMemory {
 public:
  bool read(uint64_t pa, void* dst, unsigned len, double& t) override {
    for (unsigned i = 0; i < len; i += 8) {
      auto it = m_words.find(pa + i);
      const uint64_t v = it == m_words.end() ? 0 : it->second;
      std::memcpy(static_cast<uint8_t*>(dst) + i, &v, 8);
    }
    t += 20;
    return true;
  }
  // Maps `pages` 4 KiB pages from `va`, tables from 1 MiB up.
  void map(uint64_t va, uint64_t pages) {
    for (uint64_t p = 0; p < pages; ++p) {
      const uint64_t a = va + p * 4096;
      uint64_t table = kRoot;
      for (unsigned level = 0; level + 1 < pt::kLevels; ++level) {
        uint64_t& e = m_words[table + pt::entry_offset(level, a)];
        if (!pt::pde_present(e)) e = pt::make_pde(m_next += 4096);
        table = pt::address(e);
      }
      m_words[table + pt::entry_offset(pt::kLevels - 1, a)] = pt::make_pte(a & 0xFFFFFFF000ull, pt::Aperture::Vram, true);
    }
  }
  static constexpr uint64_t kRoot = 1 << 20;

 private:
  std::unordered_map<uint64_t, uint64_t> m_words;
  uint64_t m_next = kRoot;
};

constexpr uint64_t kVa = 0x7f0000000000ull;

struct Rig {
  explicit Rig(const hw::TlbHierarchySpec& t, const hw::WalkerSpec& w) : path(t, w, 1, 1000.0 / 1400, mem) {}
  TableMemory mem;
  hw::TranslationPath path;
};

hw::WalkerSpec walker(const char* pwc) {
  hw::WalkerSpec w;
  w.pwc.impl = pwc;
  if (std::string(pwc) == "unified") w.pwc.entries = {64};
  return w;
}

// Cycles through `pages` pages; `stride` pages apart.
void run(benchmark::State& st, Rig& r, uint64_t pages, uint64_t stride) {
  r.mem.map(kVa, pages * stride);
  r.path.walker().set_root(TableMemory::kRoot);
  double t = 0;
  uint64_t i = 0;
  for (auto _ : st) {
    const hw::XlateResult x = r.path.translate(0, kVa + (i % pages) * stride * 4096, hw::Access::Read, t);
    benchmark::DoNotOptimize(x.t.pa);
    t = x.done;
    ++i;
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_TranslateL1Hit(benchmark::State& st) {
  Rig r(hw::TlbHierarchySpec{}, walker("per_level"));
  run(st, r, 16, 1);  // 16 pages: always in a 64-entry L1
}
BENCHMARK(BM_TranslateL1Hit);

void BM_TranslateL2Hit(benchmark::State& st) {
  hw::TlbHierarchySpec t;
  t.l1.entries = 16;
  t.l1.ways = 0;
  Rig r(t, walker("per_level"));
  run(st, r, 512, 1);  // 512 pages: thrash a 16-entry L1, fit the 1024-entry L2
}
BENCHMARK(BM_TranslateL2Hit);

void BM_TranslateWalkPwcHit(benchmark::State& st) {
  hw::TlbHierarchySpec t;
  t.l1.entries = 16;
  t.l1.ways = 0;
  t.l2_enabled = false;
  Rig r(t, walker("per_level"));
  run(st, r, 256, 1);  // one 2 MiB range: PD0 cached, one read per walk
}
BENCHMARK(BM_TranslateWalkPwcHit);

void BM_TranslateWalkFull(benchmark::State& st) {
  hw::TlbHierarchySpec t;
  t.l1.entries = 16;
  t.l1.ways = 0;
  t.l2_enabled = false;
  Rig r(t, walker("none"));
  run(st, r, 256, 1);  // no page-walk cache: five reads per walk
}
BENCHMARK(BM_TranslateWalkFull);

}  // namespace
