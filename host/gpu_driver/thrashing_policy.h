#pragma once
// Thrashing: a page that keeps moving between processors. Detection follows
// UVM (uvm_perf_thrashing.c): migrations of a page count as consecutive
// events when each comes within `lapse` of the previous one and from the
// other processor (so eviction under pressure, one processor only, is not
// thrashing; a page is tracked from its first migration to the CPU); `threshold` consecutive events mark the page thrashing, and
// after `epoch` without events its history is forgotten. Responses, chosen
// by name (`driver.thrashing.impl`):
//   none      detect and count, never act;
//   throttle  a GPU fault on a thrashing page is left unserviced for `nap`
//             (replayed, it faults again until the nap is over);
//   pin       the page is mapped remotely (in system memory, over the link)
//             for `pin` and migrates no more meanwhile;
//   uvm       throttle, and pin after `pin_threshold` throttle periods.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/registry.h"

namespace hmmsim::host {

struct ThrashingSpec {
  std::string impl = "uvm";
  uint32_t threshold = 3;        // consecutive events (uvm_perf_thrashing_threshold)
  double lapse_ns = 500e3;       // 500 us (uvm_perf_thrashing_lapse_usec)
  double nap_ns = 500e3;         // throttle period: 1 x lapse
  uint32_t pin_threshold = 10;   // throttle periods before pinning
  double pin_ns = 150e6;         // 300 x lapse
  double epoch_ns = 1e9;         // 2000 x lapse
};

enum class Processor : uint8_t { Cpu, Gpu };
enum class ThrashHint : uint8_t { None, Throttle, Pin };

struct ThrashingStats {
  uint64_t s_events = 0;        // migrations counted
  uint64_t s_detected = 0;      // pages that became thrashing
  uint64_t s_throttled = 0;     // GPU faults left unserviced by a throttle
  uint64_t s_pinned = 0;        // pin periods started
  uint64_t s_pinned_faults = 0; // GPU faults mapped remotely because pinned
};

class IThrashingPolicy {
 public:
  virtual ~IThrashingPolicy() = default;
  // The page at `va` migrated to memory of `to` at `now_ps`.
  virtual void on_migration(uint64_t va, Processor to, uint64_t now_ps) = 0;
  // A GPU fault on `va` is about to be serviced: what to do with it.
  virtual ThrashHint on_gpu_fault(uint64_t va, uint64_t now_ps) = 0;
  // Whether `va` is thrashing now (prefetchers leave such pages alone).
  virtual bool is_thrashing(uint64_t va, uint64_t now_ps) const = 0;
  const ThrashingStats& stats() const { return m_stats; }

 protected:
  ThrashingStats m_stats;
};

using ThrashingRegistry = common::Registry<IThrashingPolicy, const ThrashingSpec&>;
ThrashingRegistry& thrashing_registry();

}  // namespace hmmsim::host
