#pragma once
// The GMMU's page walker: K walks in flight (one per walker slot), a
// page-walk cache in front of the directory levels, and a real VRAM read for
// every level the cache misses. Plain C++: the Gmmu supplies the reads
// through ITableMemory (TLM in the model, an array in unit tests).
#include <cstdint>
#include <memory>
#include <vector>

#include "common/event_trace.h"
#include "common/histogram.h"
#include "hw/gmmu/page_walk_cache.h"
#include "hw/tlb/translation.h"
#include "hwref/fault_entry.h"

namespace hmmsim::hw {

class ITableMemory {
 public:
  virtual ~ITableMemory() = default;
  // Reads `len` (8 or 16) bytes of page table at VRAM PA `pa` arriving at
  // `t` ns; `t` moves to when the data is back. False on a bus error.
  virtual bool read(uint64_t pa, void* dst, unsigned len, double& t) = 0;
};

struct WalkerSpec {
  uint32_t walkers = 8;            // concurrent walks
  uint32_t level_cycles = 20;      // walker work per level read, besides the read itself
  PwcSpec pwc;
  std::optional<common::SpecError> validate() const;
};

struct WalkResult {
  bool valid = false;
  Translation t;
  hwref::FaultType fault = hwref::FaultType::InvalidPde;
  unsigned reads = 0;
};

class PageWalker {
 public:
  PageWalker(const WalkerSpec& spec, double cycle_ns, ITableMemory& mem);
  void set_root(uint64_t pa) { m_root = pa; }
  // Walks `va` starting at `t` ns; `t` moves to the walk's end.
  WalkResult walk(uint64_t va, double& t);
  IPageWalkCache& pwc() { return *m_pwc; }
  const WalkerSpec& spec() const { return m_spec; }
  // Walks are recorded on one track per walker slot (null: not recorded).
  void set_trace(common::EventTrace* trace);

  uint64_t s_walks = 0, s_reads = 0, s_faults = 0;
  uint64_t s_reads_by_level[6] = {};   // PD3, PD2, PD1, PD0, PT64, PT
  uint64_t s_walks_by_size[kPageSizes] = {};
  double s_queue_ns = 0, s_walk_ns = 0;
  common::Histogram s_walk_latency_ns;  // per walk, from a walker slot

 private:
  uint64_t read8(uint64_t pa, unsigned level, double& t);

  const WalkerSpec m_spec;
  const double m_cycle;
  ITableMemory& m_mem;
  std::unique_ptr<IPageWalkCache> m_pwc;
  std::vector<double> m_busy;  // per walker slot: ns when it frees
  common::EventTrace* m_trace = nullptr;
  std::vector<common::EventTrace::Track> m_tracks;  // per walker slot
  uint64_t m_root = 0;
};

}  // namespace hmmsim::hw
