#pragma once
// When the fault pipeline tells the GPU to replay its faulted accesses: a
// policy family chosen by name (`driver.replay.impl`), UVM's
// uvm_perf_fault_replay_policy (uvm_gpu_replayable_faults.c):
//   block        after each VA block is serviced;
//   batch        after each batch;
//   batch_flush  after each batch, once the fault buffer has been flushed
//                (UVM's default): pending entries up to PUT are dropped, since
//                whatever is still unsatisfied faults again after the replay.
//                PUT is re-read first when more than `update_put_ratio` of
//                the batch were duplicates, else the cached PUT is used;
//   once         once, at the end of the bottom half.
// Whatever the policy, a bottom half replays at least once: faults the GMMU
// dropped (full buffer, uTLB limit) are only retried on a replay.
#include <cstdint>
#include <memory>
#include <string>

#include "common/registry.h"

namespace hmmsim::host {

struct ReplaySpec {
  std::string impl = "batch_flush";
  double update_put_ratio = 0.5;  // uvm_perf_fault_replay_update_put_ratio = 50 (%)
};

struct BatchSummary {
  uint32_t fetched = 0;     // entries read
  uint32_t duplicates = 0;  // entries coalesced into another of the same page
};

enum class FlushMode : uint8_t { None, CachedPut, UpdatePut };

class IReplayPolicy {
 public:
  virtual ~IReplayPolicy() = default;
  virtual bool after_block() const = 0;
  virtual bool after_batch() const = 0;
  // Before the replay that ends a batch: whether (and how) to flush.
  virtual FlushMode flush(const BatchSummary& b) const = 0;
  virtual bool at_end() const = 0;
};

using ReplayRegistry = common::Registry<IReplayPolicy, const ReplaySpec&>;
ReplayRegistry& replay_registry();

}  // namespace hmmsim::host
