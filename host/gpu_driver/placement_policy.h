#pragma once
// Where a GPU-faulted page is made accessible: a policy family chosen by
// name (`driver.placement.impl`), consulted per page after the thrashing
// hint (a pinned page is always remote) and before prefetching.
//   migrate         first touch moves the page into VRAM (UVM's default);
//   remote_map      the page stays in system memory and is mapped over the
//                   link (zero copy);
//   access_counter  mapped remotely first; the GPU's access counters count
//                   its accesses, and a region that crosses their threshold
//                   migrates to VRAM (UVM with access-counter migration on).
// Hints per VA range (like cudaMemAdvise) override the policy: preferred
// location host keeps pages remote, preferred location device migrates them.
#include <cstdint>
#include <memory>
#include <string>

#include "common/registry.h"

namespace hmmsim::host {

struct PlacementSpec {
  std::string impl = "migrate";
  // access_counter: accesses per notification and region size (UVM: 256, 2 MiB).
  uint32_t counter_threshold = 256;
  uint64_t counter_granularity = 2ull << 20;
};

enum class Where : uint8_t { Vram, Remote };
enum class PreferredLocation : uint8_t { None, Host, Device };

class IPlacementPolicy {
 public:
  virtual ~IPlacementPolicy() = default;
  // Where the page faulted on goes, given the range's preferred location.
  virtual Where on_fault(PreferredLocation pref) const = 0;
  // Whether the driver should enable the access counters and migrate the
  // regions they report.
  virtual bool migrates_on_access_counters() const { return false; }
};

using PlacementRegistry = common::Registry<IPlacementPolicy, const PlacementSpec&>;
PlacementRegistry& placement_registry();

}  // namespace hmmsim::host
