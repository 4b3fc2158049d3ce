#pragma once
// TLB replacement policies, a component family chosen by name with the
// level's `replacement:` key (lru, fifo, random). A policy sees set and way
// numbers only; the TLB keeps the entries.
#include <cstdint>
#include <memory>
#include <string>

#include "common/registry.h"

namespace hmmsim::hw {

struct ReplacementGeometry {
  uint32_t sets = 1;
  uint32_t ways = 1;
  uint64_t seed = 1;  // random: the same seed picks the same victims
};

class ITlbReplacement {
 public:
  virtual ~ITlbReplacement() = default;
  virtual void on_hit(uint32_t set, uint32_t way) = 0;
  virtual void on_fill(uint32_t set, uint32_t way) = 0;
  // The way to evict when every way of `set` is valid.
  virtual uint32_t victim(uint32_t set) = 0;
};

using TlbReplacementRegistry = common::Registry<ITlbReplacement, const ReplacementGeometry&>;
TlbReplacementRegistry& tlb_replacement_registry();

}  // namespace hmmsim::hw
