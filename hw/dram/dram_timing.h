#pragma once
// IDramTiming: the DRAM timing family (style.md §1). An implementation keeps
// the busy times of channels and banks and answers when an access is done;
// it holds no data (VramCore does). Plain C++: tests drive it without a
// SystemC kernel. Implementations are chosen by name through
// dram_timing_registry() (config key gpu.vram.impl).
#include <cstdint>
#include <memory>

#include "common/registry.h"
#include "hw/dram/dram_spec.h"

namespace hmmsim::hw {

// Counted per timed unit: an interleave chunk, or one burst when the Spec
// has a burst size (a transfer spanning several chunks counts each).
struct DramCounters {
  uint64_t reads = 0, writes = 0;
  uint64_t bytes_read = 0, bytes_written = 0;
  uint64_t row_hits = 0;       // the bank had the row open
  uint64_t row_misses = 0;     // the bank was closed (never opened, or refreshed since)
  uint64_t row_conflicts = 0;  // another row was open: precharge first
};

class IDramTiming {
 public:
  virtual ~IDramTiming() = default;
  // Times [pa, pa + len) arriving at `arrive_ns` and returns when its last
  // byte is done (>= arrive_ns). The parts of a long access proceed in
  // parallel on their channels. Reserves channel and bank time and updates
  // counters(); calls are served in call order (first come, first served),
  // whatever their arrival times. len > 0; pa is not range-checked (the
  // caller knows the capacity).
  virtual double access(uint64_t pa, uint64_t len, bool write, double arrive_ns) = 0;
  const DramCounters& counters() const { return m_counters; }

 protected:
  DramCounters m_counters;
};

using DramTimingRegistry = common::Registry<IDramTiming, const DramSpec&>;
// Holds "bank_row" (open-row bank model) and "fixed" (latency + bandwidth).
// Their constructors throw std::invalid_argument for a Spec that fails
// check_dram_spec.
const DramTimingRegistry& dram_timing_registry();

}  // namespace hmmsim::hw
