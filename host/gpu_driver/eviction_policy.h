#pragma once
// Which 2 MiB VA block gives its VRAM back when an allocation fails: a
// policy family chosen by name (`driver.eviction.impl`).
//   fifo    UVM's order: blocks by the time they first took VRAM (UVM moves
//           a root chunk to the tail of its used list only when allocated,
//           never on GPU access, uvm_pmm_gpu.c), so close to FIFO;
//   random  a seeded uniform choice among resident blocks.
// The driver tells the policy when a block gains its first VRAM page and
// when it loses its last one; the policy only orders. Plain C++.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/registry.h"

namespace hmmsim::host {

struct EvictionSpec {
  std::string impl = "fifo";
  uint64_t seed = 1;
};

class IEvictionPolicy {
 public:
  virtual ~IEvictionPolicy() = default;
  virtual void on_resident(uint64_t block) = 0;  // first VRAM page of a block
  virtual void on_empty(uint64_t block) = 0;     // its last VRAM page left
  // The block to evict, other than `exclude` (the one being filled); none
  // if no other block holds VRAM.
  virtual std::optional<uint64_t> victim(uint64_t exclude) = 0;
};

using EvictionRegistry = common::Registry<IEvictionPolicy, const EvictionSpec&>;
EvictionRegistry& eviction_registry();

}  // namespace hmmsim::host
