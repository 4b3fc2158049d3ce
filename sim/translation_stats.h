#pragma once
// stats.json entries of the translation hardware: TLB levels, page walker,
// page-walk cache and fault unit (gpu.tlb.*, gpu.gmmu.*).
#include "hw/gpu.h"
#include "sim/stats.h"

namespace hmmsim::sim {

void register_translation_stats(Stats& s, hw::Gpu& gpu);

}  // namespace hmmsim::sim
