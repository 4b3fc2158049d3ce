#pragma once
// What gives VRAM back when an allocation fails: a policy family chosen by
// name (`driver.eviction.impl`). The driver reports each page that comes
// into or leaves VRAM, and (to policies that ask) each GPU access; the
// policy only orders and returns a victim range, which the driver evicts
// through the HMM core.
//   fifo    UVM's order: 2 MiB blocks by the time they first took VRAM (UVM
//           moves a root chunk to the tail of its used list only when
//           allocated, never on GPU access, uvm_pmm_gpu.c), so close to FIFO;
//   random  a seeded uniform choice among resident 2 MiB blocks;
//   lru     2 MiB blocks by last GPU access;
//   lru4k   4 KiB pages by last GPU access;
//   tbn     UVMSmart's tree-based neighbourhood: the least recently used
//           64 KiB basic block, widened to the largest enclosing subtree of
//           its 2 MiB block that would be less than `threshold` resident
//           without it (so sparse neighbourhoods leave together).
// The lru family sees every GPU access, as UVMSmart's simulator does; no
// GPU reports that to a real driver, so these are idealised baselines.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/registry.h"

namespace hmmsim::host {

struct EvictionSpec {
  std::string impl = "fifo";
  uint64_t seed = 1;
  double threshold = 0.5;  // tbn: node occupancy below which it is evicted whole
};

struct EvictUnit {
  uint64_t va;     // aligned to `bytes`
  uint64_t bytes;  // 4 KiB .. 2 MiB, a power of two
};

class IEvictionPolicy {
 public:
  virtual ~IEvictionPolicy() = default;
  virtual void on_resident(uint64_t va) = 0;  // the page at `va` came into VRAM
  virtual void on_released(uint64_t va) = 0;  // it left VRAM
  // Whether the policy needs on_access (a per-access cost otherwise avoided).
  virtual bool wants_accesses() const { return false; }
  virtual void on_access(uint64_t /*va*/) {}
  // The range to evict, in no 2 MiB block for which `excluded` is true
  // (the blocks of the batch being serviced); none if no page outside them
  // is resident.
  using Excluded = std::function<bool(uint64_t block)>;
  virtual std::optional<EvictUnit> victim_outside(const Excluded& excluded) = 0;
  std::optional<EvictUnit> victim(uint64_t exclude) {
    return victim_outside([exclude](uint64_t b) { return b == exclude; });
  }
};

using EvictionRegistry = common::Registry<IEvictionPolicy, const EvictionSpec&>;
EvictionRegistry& eviction_registry();

}  // namespace hmmsim::host
