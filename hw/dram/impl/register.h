#pragma once
// Built-in IDramTiming implementations; dram_timing_registry() adds them.
#include "hw/dram/dram_timing.h"

namespace hmmsim::hw::dram_impl {

std::unique_ptr<IDramTiming> make_bank_row(const DramSpec& s);
std::unique_ptr<IDramTiming> make_fixed(const DramSpec& s);

}  // namespace hmmsim::hw::dram_impl
