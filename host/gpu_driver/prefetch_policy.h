#pragma once
// Which pages of a VA block move to VRAM together with the faulted ones: a
// policy family chosen by name (`driver.prefetch.impl`). The pipeline asks
// once per block, after deciding which faulted pages go to VRAM, and moves
// the answer in the same migration as the faults (same batch, same copy).
//   none      only the faulted pages;
//   uvm_tree  UVM's density prefetcher (uvm_perf_prefetch.c): each faulted
//             page widens to its 64 KiB big page, then the largest subtree
//             of the block's 4 KiB-leaf binary tree that is more than
//             `threshold` resident-or-faulted is filled;
//   seq64k    UVMSmart's sequential-local: the 64 KiB around each fault;
//   tbn       UVMSmart's tree-based neighbourhood: 64 KiB leaves (a leaf
//             counts when any of its pages is valid), filled bottom-up
//             wherever a node is more than `threshold` valid.
// Exclusions (thrashing pages, pages that must stay remote) reach the
// policy as the `eligible` mask: it never returns a page outside it.
#include <cstdint>
#include <memory>
#include <string>

#include "common/registry.h"
#include "host/gpu_driver/va_block.h"

namespace hmmsim::host {

struct PrefetchSpec {
  std::string impl = "uvm_tree";
  double threshold = 0.51;  // UVM: uvm_perf_prefetch_threshold = 51 (%)
};

struct PrefetchQuery {
  PageMask resident;  // pages of the block already in VRAM
  PageMask faulted;   // pages this batch moves to VRAM for a fault
  PageMask eligible;  // pages that may be prefetched
};

class IPrefetchPolicy {
 public:
  virtual ~IPrefetchPolicy() = default;
  // Pages to move besides the faulted ones: a subset of eligible, disjoint
  // from resident and faulted.
  virtual PageMask select(const PrefetchQuery& q) const = 0;
};

using PrefetchRegistry = common::Registry<IPrefetchPolicy, const PrefetchSpec&>;
PrefetchRegistry& prefetch_registry();

}  // namespace hmmsim::host
