#pragma once
// Test helper: drains a synthetic kernel source and counts what it did,
// checking the invariants every kernel must keep on the way.
#include <gtest/gtest.h>

#include <algorithm>
#include <bitset>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "workload/synthetic/synthetic.h"

namespace hmmsim::workload::test {

using hw::InstrClass;
using hw::MemSpace;
using hw::WarpInstr;

constexpr uint64_t kBase = uint64_t(1) << 40;  // 2 MiB aligned

inline SyntheticSpec spec_for(const std::string& kernel, uint64_t footprint) {
  SyntheticSpec s;
  s.kernel = kernel;
  s.base_va = kBase;
  s.footprint = footprint;
  return s;
}

inline unsigned popcount(uint32_t m) { return static_cast<unsigned>(std::bitset<32>(m).count()); }

struct Stats {
  uint64_t ctas = 0, warps = 0, instrs = 0, compute = 0;
  uint64_t loads = 0, stores = 0, atomics = 0;          // global warp instructions
  uint64_t shared_loads = 0, shared_stores = 0;          // shared warp instructions
  uint64_t load_lanes = 0, store_lanes = 0;              // global active lanes
  uint64_t line_accesses = 0, page_accesses = 0;         // sum over global instructions of distinct lines / pages
  std::set<uint64_t> pages, lines;                       // distinct 4 KiB pages / 128 B lines (global)
  std::map<uint64_t, uint64_t> reads, writes;            // global address -> lane accesses
  std::map<uint16_t, uint64_t> opcodes;                  // opcode id -> instructions
  uint64_t shmem_max = 0;                                // highest shared byte touched + 1
  uint64_t global() const { return loads + stores + atomics; }
};

using Visit = std::function<void(uint64_t cta, unsigned warp, const WarpInstr&)>;

// Drains CTA by CTA, each CTA's warps in order. Checks: addresses inside
// the footprint, element aligned, and inside an array the GPU may read
// (loads) or write (stores); masks non-empty and within the warp; register
// and opcode ids in range; exhausted streams stay exhausted.
inline Stats drain(const SyntheticSpec& spec, const Visit& visit = nullptr) {
  auto src = make_synthetic(spec);
  const auto layout = synthetic_layout(spec);
  const hw::KernelInfo& info = src->info();
  EXPECT_EQ(info.name, spec.kernel);
  const uint64_t tpc = info.block.count();
  Stats st;
  hw::CtaWork cta;
  auto in_array = [&](uint64_t a, bool write) {
    for (const auto& arr : layout)
      if (a >= spec.base_va + arr.offset && a + spec.width <= spec.base_va + arr.offset + arr.bytes)
        return write ? arr.gpu_writes : arr.gpu_reads;
    return false;
  };
  while (src->next_cta(cta)) {
    const uint64_t c = st.ctas++;
    EXPECT_EQ(cta.id.x + uint64_t(info.grid.x) * (cta.id.y + uint64_t(info.grid.y) * cta.id.z), c);
    EXPECT_EQ(cta.warps.size(), info.warps_per_cta());
    for (unsigned w = 0; w < cta.warps.size(); ++w) {
      ++st.warps;
      const uint64_t lanes = std::min<uint64_t>(32, tpc - w * 32ull);
      const uint32_t exists = lanes == 32 ? ~0u : (1u << lanes) - 1;
      WarpInstr in;
      while (cta.warps[w]->next(in)) {
        ++st.instrs;
        ++st.opcodes[in.opcode];
        EXPECT_LT(in.opcode, info.opcodes.size());
        EXPECT_LE(in.ndst, hw::kMaxDst);
        EXPECT_LE(in.nsrc, hw::kMaxSrc);
        for (unsigned i = 0; i < in.ndst; ++i) EXPECT_LT(in.dst[i], hw::kRegCount);
        for (unsigned i = 0; i < in.nsrc; ++i) EXPECT_LT(in.src[i], hw::kRegCount);
        EXPECT_NE(in.mask, 0u);
        EXPECT_EQ(in.mask & ~exists, 0u);
        if (visit) visit(c, w, in);
        if (!in.is_memory()) {
          ++st.compute;
          continue;
        }
        EXPECT_EQ(in.width, spec.width);
        const bool write = in.writes_memory();
        if (in.space == MemSpace::Shared) {
          ++(write ? st.shared_stores : st.shared_loads);
          for (unsigned i = 0; i < 32; ++i)
            if (in.mask >> i & 1) st.shmem_max = std::max<uint64_t>(st.shmem_max, in.addr[i] + in.width);
          continue;
        }
        EXPECT_EQ(in.space, MemSpace::Global);
        ++(in.cls == InstrClass::Load ? st.loads : in.cls == InstrClass::Store ? st.stores : st.atomics);
        std::set<uint64_t> ilines, ipages;
        for (unsigned i = 0; i < 32; ++i) {
          if (!(in.mask >> i & 1)) continue;
          const uint64_t a = in.addr[i];
          EXPECT_GE(a, spec.base_va);
          EXPECT_LE(a + in.width, spec.base_va + spec.footprint);
          EXPECT_EQ(a % in.width, 0u);
          EXPECT_TRUE(in_array(a, write)) << std::hex << a;
          ++(write ? st.store_lanes : st.load_lanes);
          ++(write ? st.writes : st.reads)[a];
          ilines.insert(a / 128);
          ipages.insert(a / 4096);
        }
        st.line_accesses += ilines.size();
        st.page_accesses += ipages.size();
        st.lines.insert(ilines.begin(), ilines.end());
        st.pages.insert(ipages.begin(), ipages.end());
      }
      EXPECT_FALSE(cta.warps[w]->next(in));  // stays exhausted
    }
  }
  EXPECT_EQ(st.ctas, info.grid.count());
  EXPECT_FALSE(src->next_cta(cta));
  return st;
}

// Every instruction of a kernel, in drain order, as comparable bytes.
inline std::vector<uint64_t> fingerprint(const SyntheticSpec& spec) {
  std::vector<uint64_t> out;
  drain(spec, [&](uint64_t c, unsigned w, const WarpInstr& in) {
    uint64_t h = c * 1000003 + w;
    h = h * 31 + uint64_t(in.cls) * 7 + in.opcode + (uint64_t(in.mask) << 20) + (uint64_t(in.pc) << 8);
    for (unsigned i = 0; i < 32; ++i) h = h * 1099511628211ull + (in.mask >> i & 1 ? in.addr[i] : 0);
    for (unsigned i = 0; i < in.nsrc; ++i) h = h * 131 + in.src[i];
    for (unsigned i = 0; i < in.ndst; ++i) h = h * 137 + in.dst[i];
    out.push_back(h);
  });
  return out;
}

}  // namespace hmmsim::workload::test
