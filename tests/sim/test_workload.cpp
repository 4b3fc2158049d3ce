// Tests for sim/workload: the buffers of vector_update, how the accesses are
// split among warps, the values stores write and the CPU's init pattern.
#include "sim/workload.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace hmmsim::sim {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

// A memory instruction of the kernel, seen as the byte range it covers.
struct Op {
  uint64_t va;
  uint32_t bytes;
  bool write;
  uint32_t value, stride;
};

// The plan with its kernel drained: [cta][warp] -> memory ops; the compute
// instructions between them are counted.
struct Planned : WorkloadPlan {
  std::vector<std::vector<std::vector<Op>>> warps;
  uint64_t compute = 0;
  bool lanes_contiguous = true;
};

Planned drain(const WorkloadPlan& plan) {
  Planned p;
  static_cast<WorkloadPlan&>(p) = plan;
  auto k = make_vector_update(p);
  hw::CtaWork cta;
  while (k->next_cta(cta)) {
    p.warps.emplace_back();
    for (auto& stream : cta.warps) {
      std::vector<Op> ops;
      hw::WarpInstr in;
      while (stream->next(in)) {
        if (!in.is_memory()) {
          ++p.compute;
          continue;
        }
        const unsigned first = __builtin_ctz(in.mask), lanes = __builtin_popcount(in.mask);
        for (unsigned i = 1; i < lanes; ++i)
          p.lanes_contiguous &= in.addr[first + i] == in.addr[first] + uint64_t(i) * in.width;
        const Op op{in.addr[first], lanes * in.width, in.cls == hw::InstrClass::Store, in.value, in.stride};
        // Chunks wider than 512 bytes take several contiguous instructions: one op here.
        if (!ops.empty() && ops.back().write == op.write && ops.back().va + ops.back().bytes == op.va &&
            op.va % plan.spec.access_bytes != 0) {
          ops.back().bytes += op.bytes;
          continue;
        }
        ops.push_back(op);
      }
      p.warps.back().push_back(std::move(ops));
    }
  }
  return p;
}

Planned plan(const WorkloadSpec& w, unsigned sms) { return drain(plan_workload(w, sms)); }

bool inside(const Buffer& b, uint64_t va, uint64_t len) { return va >= b.va && va + len <= b.va + b.bytes; }
bool overlaps(const Buffer& b, uint64_t va, uint64_t len) { return va < b.va + b.bytes && b.va < va + len; }

uint64_t count_ops(const Planned& p, bool write) {
  uint64_t n = 0;
  for (const auto& sm : p.warps)
    for (const auto& warp : sm)
      for (const auto& op : warp) n += op.write == write;
  return n;
}

// Checks the per-warp slices of `p` for spec `w`: every op lies in a buffer
// and within one page; each warp executes (load in, [load lut], store out)
// for consecutive chunks; all chunks are covered exactly once; stores write
// in + 1 for every lane. `sizes` gets the number of chunks per warp.
void check_slices(const Planned& p, const WorkloadSpec& w, unsigned sms,
                  std::vector<uint64_t>* sizes_out = nullptr) {
  const Buffer& in = p.buffers.at(0);
  const Buffer& out = p.buffers.at(1);
  const bool lut = w.lut_pages != 0;
  const unsigned per_chunk = lut ? 3 : 2;
  const uint64_t chunks = in.bytes / w.access_bytes;
  std::vector<int> seen(chunks, 0);
  std::vector<uint64_t> sizes;
  ASSERT_EQ(w.access_bytes % 4, 0u);
  EXPECT_EQ(p.warps.size(), sms);  // one CTA per SM
  EXPECT_TRUE(p.lanes_contiguous);
  EXPECT_EQ(p.compute, chunks * p.compute_per_chunk);
  for (unsigned s = 0; s < p.warps.size(); ++s) {
    EXPECT_EQ(p.warps[s].size(), w.warps_per_sm);
    for (unsigned wi = 0; wi < p.warps[s].size(); ++wi) {
      const auto& ops = p.warps[s][wi];
      SCOPED_TRACE("sm " + std::to_string(s) + " warp " + std::to_string(wi));
      EXPECT_EQ(ops.size() % per_chunk, 0u);
      uint64_t prev_off = 0;
      for (size_t i = 0; i + per_chunk <= ops.size(); i += per_chunk) {
        const Op& ld = ops[i];
        const Op& st = ops[i + per_chunk - 1];
        ASSERT_FALSE(ld.write);
        ASSERT_TRUE(inside(in, ld.va, ld.bytes));
        const uint64_t off = ld.va - in.va;
        ASSERT_EQ(off % w.access_bytes, 0u);
        if (i) {
          EXPECT_EQ(off, prev_off + w.access_bytes) << "slice not contiguous at op " << i;
        }
        prev_off = off;
        ++seen[off / w.access_bytes];
        EXPECT_EQ(ld.bytes, w.access_bytes);
        EXPECT_LE((ld.va & 4095) + ld.bytes, 4096u);
        if (lut) {
          const Op& lu = ops[i + 1];
          const Buffer& t = p.buffers.at(2);
          EXPECT_FALSE(lu.write);
          EXPECT_EQ(lu.va, t.va + off % t.bytes);
          EXPECT_EQ(lu.bytes, w.access_bytes);
        }
        EXPECT_TRUE(st.write);
        EXPECT_EQ(st.va, out.va + off);
        EXPECT_EQ(st.bytes, w.access_bytes);
        // Lane j stores value + j * stride, which must be in[k + j] + 1.
        for (uint32_t j = 0; j < st.bytes / 4; ++j)
          ASSERT_EQ(st.value + j * st.stride, WorkloadPlan::init_word(in, off + 4 * j) + 1)
              << "store at out+" << off << " lane " << j;
      }
      sizes.push_back(ops.size() / per_chunk);
    }
  }
  for (uint64_t c = 0; c < chunks; ++c) EXPECT_EQ(seen[c], 1) << "chunk " << c;
  if (sizes_out) *sizes_out = sizes;
}

TEST(WorkloadPlanTest, DefaultBuffersSitInSeparate2MiBBlocks) {
  const WorkloadSpec w;
  const Planned p = plan(w, 2);
  ASSERT_EQ(p.buffers.size(), 3u);
  const Buffer& in = p.buffers[0];
  const Buffer& out = p.buffers[1];
  const Buffer& lut = p.buffers[2];
  EXPECT_EQ(std::string(in.name), "in");
  EXPECT_EQ(in.va, 0x7f0000000000ull);
  EXPECT_EQ(in.bytes, 16u * 4096);
  EXPECT_EQ(in.cpu_init_bytes, 12u * 4096);
  EXPECT_FALSE(in.prefer_host);
  EXPECT_EQ(std::string(out.name), "out");
  EXPECT_EQ(out.va, 0x7f0000000000ull + 2 * kMiB);
  EXPECT_EQ(out.bytes, 16u * 4096);
  EXPECT_EQ(out.cpu_init_bytes, 0u);
  EXPECT_FALSE(out.prefer_host);
  EXPECT_EQ(std::string(lut.name), "lut");
  EXPECT_EQ(lut.va, 0x7f0000000000ull + 4 * kMiB);
  EXPECT_EQ(lut.bytes, 4u * 4096);
  EXPECT_EQ(lut.cpu_init_bytes, 2u * 4096);
  EXPECT_TRUE(lut.prefer_host);
}

TEST(WorkloadPlanTest, DefaultTotalsMatchTheOps) {
  const Planned p = plan(WorkloadSpec{}, 2);
  EXPECT_EQ(p.gpu_loads, 1024u);  // 512 chunks x (in + lut)
  EXPECT_EQ(p.gpu_stores, 512u);
  EXPECT_EQ(count_ops(p, false), p.gpu_loads);
  EXPECT_EQ(count_ops(p, true), p.gpu_stores);
}

TEST(WorkloadPlanTest, DefaultWarpsOwnEqualContiguousSlices) {
  const WorkloadSpec w;
  const Planned p = plan(w, 2);
  std::vector<uint64_t> sizes;
  ASSERT_NO_FATAL_FAILURE(check_slices(p, w, 2, &sizes));
  ASSERT_EQ(sizes.size(), 8u);
  for (uint64_t n : sizes) EXPECT_EQ(n, 64u);  // 512 chunks over 8 warps
}

TEST(WorkloadPlanTest, StoreValuesFollowTheCpuInit) {
  const WorkloadSpec w;
  const Planned p = plan(w, 2);
  const Buffer& out = p.buffers[1];
  const uint64_t init = uint64_t(w.cpu_init_pages) * 4096;
  unsigned initialised = 0, beyond = 0;
  for (const auto& sm : p.warps)
    for (const auto& warp : sm)
      for (const auto& op : warp) {
        if (!op.write) continue;
        const uint64_t off = op.va - out.va;
        if (off < init) {
          EXPECT_EQ(op.value, off / 4 + 1) << "out+" << off;
          EXPECT_EQ(op.stride, 1u);
          ++initialised;
        } else {
          EXPECT_EQ(op.value, 1u) << "out+" << off;
          EXPECT_EQ(op.stride, 0u);
          ++beyond;
        }
      }
  EXPECT_EQ(initialised, 12u * 4096 / 128);
  EXPECT_EQ(beyond, 4u * 4096 / 128);
}

TEST(WorkloadPlanTest, UnevenSplitStillCoversEveryChunkOnce) {
  WorkloadSpec w;
  w.pages = 1;
  w.cpu_init_pages = 1;
  w.lut_pages = 1;
  w.lut_cpu_init_pages = 0;
  w.access_bytes = 128;  // 32 chunks over 3 x 5 = 15 warps
  w.warps_per_sm = 5;
  const Planned p = plan(w, 3);
  std::vector<uint64_t> sizes;
  ASSERT_NO_FATAL_FAILURE(check_slices(p, w, 3, &sizes));
  uint64_t total = 0;
  for (uint64_t n : sizes) {
    EXPECT_GE(n, 2u);
    EXPECT_LE(n, 3u);
    total += n;
  }
  EXPECT_EQ(total, 32u);
  EXPECT_EQ(p.gpu_loads, 64u);
  EXPECT_EQ(p.gpu_stores, 32u);
}

TEST(WorkloadPlanTest, WithoutTableThereAreTwoBuffersAndNoTableLoads) {
  WorkloadSpec w;
  w.lut_pages = 0;
  w.lut_cpu_init_pages = 0;
  const Planned p = plan(w, 2);
  ASSERT_EQ(p.buffers.size(), 2u);
  EXPECT_EQ(std::string(p.buffers[1].name), "out");
  EXPECT_EQ(p.gpu_loads, 512u);
  EXPECT_EQ(p.gpu_stores, 512u);
  EXPECT_EQ(count_ops(p, false), 512u);
  EXPECT_EQ(count_ops(p, true), 512u);
  for (const auto& sm : p.warps)
    for (const auto& warp : sm)
      for (const auto& op : warp)
        EXPECT_TRUE(inside(p.buffers[0], op.va, op.bytes) || inside(p.buffers[1], op.va, op.bytes))
            << std::hex << op.va;
  check_slices(p, w, 2);
}

TEST(WorkloadPlanTest, LargeBuffersRoundTheStrideUpTo2MiB) {
  WorkloadSpec w;
  w.pages = 513;  // just over 2 MiB per buffer
  w.access_bytes = 4096;
  Planned p = plan(w, 2);
  ASSERT_EQ(p.buffers.size(), 3u);
  EXPECT_EQ(p.buffers[1].va, w.base_va + 4 * kMiB);
  EXPECT_EQ(p.buffers[2].va, w.base_va + 8 * kMiB);
  EXPECT_FALSE(overlaps(p.buffers[0], p.buffers[1].va, p.buffers[1].bytes));
  check_slices(p, w, 2);

  w.pages = 512;  // exactly 2 MiB: no gap
  p = plan(w, 2);
  EXPECT_EQ(p.buffers[1].va, w.base_va + 2 * kMiB);
  EXPECT_EQ(p.buffers[2].va, w.base_va + 4 * kMiB);
}

TEST(WorkloadPlanTest, StrayLoadsGoAfterWarpZeroOfSmZeroOutsideEveryBuffer) {
  WorkloadSpec w;
  const Planned base = plan(w, 2);
  w.stray_loads = 3;
  const Planned p = plan(w, 2);
  ASSERT_EQ(p.warps[0][0].size(), base.warps[0][0].size() + 3);
  // Everything else is unchanged.
  for (unsigned s = 0; s < 2; ++s)
    for (unsigned wi = 0; wi < w.warps_per_sm; ++wi) {
      const auto& a = base.warps[s][wi];
      const auto& b = p.warps[s][wi];
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(b[i].va, a[i].va);
        EXPECT_EQ(b[i].write, a[i].write);
        EXPECT_EQ(b[i].value, a[i].value);
      }
      if (s || wi) {
        EXPECT_EQ(b.size(), a.size());
      }
    }
  const auto& w0 = p.warps[0][0];
  for (size_t i = w0.size() - 3; i < w0.size(); ++i) {
    const Op& op = w0[i];
    EXPECT_FALSE(op.write);
    EXPECT_GT(op.bytes, 0u);
    EXPECT_LE((op.va & 4095) + op.bytes, 4096u);
    for (const Buffer& b : p.buffers)
      EXPECT_FALSE(overlaps(b, op.va, op.bytes)) << std::hex << op.va << " is inside " << b.name;
    // Not in the 2 MiB blocks the buffers occupy either.
    for (const Buffer& b : p.buffers)
      EXPECT_FALSE(op.va >= (b.va & ~(2 * kMiB - 1)) && op.va < ((b.va + b.bytes + 2 * kMiB - 1) & ~(2 * kMiB - 1)))
          << std::hex << op.va;
  }
  // The real work is counted; stray loads are not expected to complete.
  EXPECT_EQ(p.gpu_loads, base.gpu_loads);
  EXPECT_EQ(p.gpu_stores, base.gpu_stores);
}

TEST(WorkloadPlanTest, InitWordPattern) {
  const Planned p = plan(WorkloadSpec{}, 2);
  const Buffer& in = p.buffers[0];
  const Buffer& out = p.buffers[1];
  const Buffer& lut = p.buffers[2];
  EXPECT_EQ(WorkloadPlan::init_word(in, 0), 0u);
  EXPECT_EQ(WorkloadPlan::init_word(in, 4), 1u);
  EXPECT_EQ(WorkloadPlan::init_word(in, 4096), 1024u);
  EXPECT_EQ(WorkloadPlan::init_word(in, 12 * 4096 - 4), 12u * 1024 - 1);
  EXPECT_EQ(WorkloadPlan::init_word(in, 12 * 4096), 0u);  // beyond the CPU-written prefix
  EXPECT_EQ(WorkloadPlan::init_word(in, 16 * 4096 - 4), 0u);
  EXPECT_EQ(WorkloadPlan::init_word(lut, 0), 0xA0000000u);
  EXPECT_EQ(WorkloadPlan::init_word(lut, 4), 0xA0000001u);
  EXPECT_EQ(WorkloadPlan::init_word(lut, 2 * 4096 - 4), 0xA0000000u + 2047);
  EXPECT_EQ(WorkloadPlan::init_word(lut, 2 * 4096), 0u);
  EXPECT_EQ(WorkloadPlan::init_word(out, 0), 0u);  // the CPU never writes `out`
  EXPECT_EQ(WorkloadPlan::init_word(out, 100), 0u);
}

}  // namespace
}  // namespace hmmsim::sim
