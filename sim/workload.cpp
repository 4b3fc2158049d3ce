#include "sim/workload.h"

#include <cstring>

namespace hmmsim::sim {

uint32_t WorkloadPlan::init_word(const Buffer& b, uint64_t off) {
  if (off >= b.cpu_init_bytes) return 0;  // never written: reads as zero
  const uint32_t k = static_cast<uint32_t>(off / 4);
  return b.prefer_host ? 0xA0000000u + k : k;  // int[k] = k; tables are tagged
}

WorkloadPlan plan_workload(const WorkloadSpec& w, unsigned sms) {
  WorkloadPlan p;
  const uint64_t buf = uint64_t(w.pages) * 4096;
  // Separate 2 MiB blocks, as separate allocations usually are.
  const uint64_t stride = ((buf + (2ull << 20) - 1) / (2ull << 20)) * (2ull << 20);
  p.buffers.push_back({"in", w.base_va, buf, uint64_t(w.cpu_init_pages) * 4096, false});
  p.buffers.push_back({"out", w.base_va + stride, buf, 0, false});
  if (w.lut_pages)
    p.buffers.push_back({"lut", w.base_va + 2 * stride, uint64_t(w.lut_pages) * 4096,
                         uint64_t(w.lut_cpu_init_pages) * 4096, true});
  const Buffer& in = p.buffers[0];
  const Buffer& out = p.buffers[1];

  // Each warp owns a contiguous slice of accesses: load in, load the table
  // entry, store out = in + 1.
  const unsigned nwarps = sms * w.warps_per_sm;
  const uint64_t chunks = buf / w.access_bytes;
  p.warps.assign(sms, std::vector<std::vector<hw::WarpOp>>(w.warps_per_sm));
  for (unsigned gw = 0; gw < nwarps; ++gw) {
    auto& ops = p.warps[gw % sms][gw / sms];
    const uint64_t c0 = chunks * gw / nwarps, c1 = chunks * (gw + 1) / nwarps;
    for (uint64_t c = c0; c < c1; ++c) {
      const uint64_t off = c * w.access_bytes;
      ops.push_back({in.va + off, w.access_bytes, false, 0, 0, 0});
      if (w.lut_pages) {
        const uint64_t lut_off = off % (uint64_t(w.lut_pages) * 4096);
        ops.push_back({p.buffers[2].va + lut_off, w.access_bytes, false, 0, 0, 0});
        ++p.gpu_loads;
      }
      const uint32_t first = WorkloadPlan::init_word(in, off);
      const bool initialised = off < in.cpu_init_bytes;
      ops.push_back({out.va + off, w.access_bytes, true, first + 1, initialised ? 1u : 0u, w.gap_cycles});
      p.gpu_loads += 1;
      p.gpu_stores += 1;
    }
  }
  // Stray loads: a program bug the driver must cancel, not hang on. They
  // go after warp 0's real work so its slice still completes.
  const uint64_t stray_va = w.base_va + 3 * stride + (2ull << 20);  // never mapped
  for (uint32_t k = 0; k < w.stray_loads; ++k)
    p.warps[0][0].push_back({stray_va + uint64_t(k) * 4096, 4, false, 0, 0, 0});
  return p;
}

}  // namespace hmmsim::sim
