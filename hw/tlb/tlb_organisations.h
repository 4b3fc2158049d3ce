#pragma once
// Factories of the built-in TLB organisations (hw/tlb/tlb.h), one file each.
#include <memory>

#include "hw/tlb/tlb.h"

namespace hmmsim::hw {

std::unique_ptr<ITlb> make_unified_tlb(const TlbSpec& spec);
std::unique_ptr<ITlb> make_split_tlb(const TlbSpec& spec);

}  // namespace hmmsim::hw
