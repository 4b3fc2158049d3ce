#include "workload/io/kernel_scan.h"

#include <algorithm>
#include <unordered_set>

namespace hmmsim::workload {

KernelSummary scan_kernel(hw::IKernelSource& src) {
  KernelSummary s;
  std::unordered_set<uint64_t> pages, regions;
  hw::CtaWork cta;
  hw::WarpInstr in;
  uint64_t last_page = UINT64_MAX, last_region = UINT64_MAX;  // 4 KiB and 2 MiB numbers
  while (src.next_cta(cta)) {
    ++s.ctas;
    for (auto& w : cta.warps) {
      ++s.warps;
      if (!w) continue;
      while (w->next(in)) {
        ++s.instructions;
        if (!in.is_memory()) {
          ++s.compute;
          continue;
        }
        switch (in.space) {
          case hw::MemSpace::Shared: ++s.shared; continue;
          case hw::MemSpace::Local: ++s.local; continue;
          case hw::MemSpace::Const: ++s.constant; continue;
          case hw::MemSpace::Global: break;
        }
        if (in.cls == hw::InstrClass::Load) ++s.global_loads;
        else if (in.cls == hw::InstrClass::Store) ++s.global_stores;
        else ++s.global_atomics;
        const uint64_t width = std::max<uint64_t>(in.width, 1);
        for (unsigned lane = 0; lane < hw::kWarpSize; ++lane) {
          if (!(in.mask >> lane & 1u)) continue;
          ++s.global_lanes;
          s.global_bytes += in.width;
          const uint64_t first = in.addr[lane];
          const uint64_t last = first > UINT64_MAX - (width - 1) ? UINT64_MAX : first + (width - 1);
          // Pages and regions are contiguous: insert each one the lane spans
          // (at most two for widths up to 32 bytes).
          // Neighbouring lanes mostly hit the page just seen: skip the set.
          for (uint64_t p = first >> 12; p <= last >> 12; ++p) {
            if (p == last_page) continue;
            pages.insert(p);
            last_page = p;
            if ((p >> 9) != last_region) regions.insert(last_region = p >> 9);
          }
        }
      }
      w.reset();  // its cursor and buffer go now, not with the next CTA
    }
  }
  s.pages_4k = pages.size();
  s.regions_2m.reserve(regions.size());
  for (uint64_t r : regions) s.regions_2m.push_back(r << 21);
  std::sort(s.regions_2m.begin(), s.regions_2m.end());
  return s;
}

}  // namespace hmmsim::workload
