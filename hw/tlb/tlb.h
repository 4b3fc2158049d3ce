#pragma once
// A TLB level's storage, a component family chosen by `impl:`:
//   unified  one set-associative array for every page size; a lookup probes
//            once per page size that has valid entries (4 KiB, 64 KiB,
//            2 MiB), all probes in the same cycle;
//   split    one array per page size (entries, entries_64k, entries_2m),
//            probed in parallel, as CPUs split their L1 DTLBs.
// Plain C++: no SystemC; timing lives in TlbLevel.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/registry.h"
#include "hw/tlb/translation.h"

namespace hmmsim::hw {

struct TlbSpec {
  std::string impl = "unified";
  std::string replacement = "lru";  // lru | fifo | random
  uint32_t entries = 64;
  uint32_t ways = 4;                // 0 = fully associative
  uint32_t hit_cycles = 1;
  uint32_t lookups_per_cycle = 4;   // port width: lookups started per cycle
  uint32_t mshrs = 16;              // outstanding misses; more stall the requester
  uint32_t entries_64k = 16;        // split: the 64 KiB array (fully associative)
  uint32_t entries_2m = 16;         // split: the 2 MiB array (fully associative)
  uint64_t seed = 1;                // random replacement
  // Key (relative to the level's config block) and reason when impossible.
  std::optional<common::SpecError> validate() const;
};

struct TlbCounters {
  uint64_t hits = 0, misses = 0, evictions = 0, invalidated = 0;
  uint64_t fills[kPageSizes] = {};
  uint64_t hits_by_size[kPageSizes] = {};
};

class ITlb {
 public:
  virtual ~ITlb() = default;
  // The entry covering `va` (any page size), or null; counts the hit or miss.
  virtual const Translation* lookup(uint64_t va) = 0;
  virtual void insert(uint64_t va, const Translation& t) = 0;
  // Drops entries overlapping [va, va + bytes); bytes == 0 flushes all.
  virtual void invalidate(uint64_t va, uint64_t bytes) = 0;
  virtual uint64_t valid_entries() const = 0;
  TlbCounters c;
};

using TlbRegistry = common::Registry<ITlb, const TlbSpec&>;
TlbRegistry& tlb_registry();
// Builds spec.impl; throws std::invalid_argument if the spec is invalid.
std::unique_ptr<ITlb> make_tlb(const TlbSpec& spec);

}  // namespace hmmsim::hw
