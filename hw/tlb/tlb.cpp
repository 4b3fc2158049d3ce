#include "hw/tlb/tlb.h"

#include <stdexcept>

#include "hw/tlb/tlb_organisations.h"
#include "hw/tlb/tlb_replacement.h"

namespace hmmsim::hw {

std::optional<common::SpecError> TlbSpec::validate() const {
  if (!tlb_registry().has(impl))
    return common::SpecError{"impl", "unknown implementation '" + impl + "'; registered: " + tlb_registry().names_text()};
  if (!tlb_replacement_registry().has(replacement))
    return common::SpecError{"replacement", "unknown implementation '" + replacement +
                                                "'; registered: " + tlb_replacement_registry().names_text()};
  if (entries == 0) return common::SpecError{"entries", "must be at least 1"};
  if (ways > entries) return common::SpecError{"ways", "exceeds entries (use 0 for fully associative)"};
  if (ways && entries % ways) return common::SpecError{"ways", "entries must be a multiple of ways"};
  if (lookups_per_cycle == 0) return common::SpecError{"lookups_per_cycle", "must be at least 1"};
  if (mshrs == 0) return common::SpecError{"mshrs", "must be at least 1"};
  if (impl == "split" && (entries_64k == 0 || entries_2m == 0))
    return common::SpecError{entries_64k == 0 ? "entries_64k" : "entries_2m", "must be at least 1"};
  return std::nullopt;
}

TlbRegistry& tlb_registry() {
  static TlbRegistry r = [] {
    TlbRegistry reg("TLB organisation");
    reg.add("unified", make_unified_tlb);
    reg.add("split", make_split_tlb);
    return reg;
  }();
  return r;
}

std::unique_ptr<ITlb> make_tlb(const TlbSpec& spec) {
  if (auto err = spec.validate()) throw std::invalid_argument("TLB " + err->key + ": " + err->message);
  return tlb_registry().make(spec.impl, spec);
}

}  // namespace hmmsim::hw
