#include "hw/dram/dram_timing.h"

#include "hw/dram/impl/register.h"

namespace hmmsim::hw {

// Filled on first use, explicitly: hw is a static library, so
// self-registering statics in impl/ could be dropped by the linker.
const DramTimingRegistry& dram_timing_registry() {
  static const DramTimingRegistry reg = [] {
    DramTimingRegistry r("DRAM timing");
    r.add("bank_row", dram_impl::make_bank_row);
    r.add("fixed", dram_impl::make_fixed);
    return r;
  }();
  return reg;
}

}  // namespace hmmsim::hw
