#pragma once
// GPU driver parameters. Defaults follow NVIDIA UVM (kernel-open/nvidia-uvm/, docs/references.md):
// batch of 256 faults, at most 20 batches per bottom half, 4 targeted TLB
// invalidate ranges per batch before a full flush. CPU costs are chosen so
// that a small batch takes 20-50 us end to end, the fault latency Zheng
// HPCA'16 reports, with most of it software (Kim ASPLOS'20: driver work is
// ~47 % of a batch, transfer <= ~25 %, SC'21 Fig. 7).
#include <cstdint>

#include "host/gpu_driver/eviction_policy.h"
#include "host/gpu_driver/placement_policy.h"
#include "host/gpu_driver/prefetch_policy.h"
#include "host/gpu_driver/replay_policy.h"
#include "host/gpu_driver/thrashing_policy.h"

namespace hmmsim::host {

struct DriverCosts {
  double isr_ns = 2000;             // interrupt entry + bottom-half wakeup
  double batch_fixed_ns = 6000;     // per batch: fetch setup, sort, bookkeeping
  double per_fault_ns = 150;        // per fetched fault entry (decode, coalesce)
  double per_block_ns = 4000;       // per 2 MiB VA block serviced (locking, lookups)
  double per_page_ns = 600;         // per page mirrored or migrated (range_fault, migrate_vma)
  double per_pte_ns = 80;           // per device PTE built
  double migrate_to_ram_ns = 8000;  // CPU fault on a device page: handler overhead
};

enum class CopyCompletion : uint8_t { Interrupt, Semaphore };

struct CopyEngineUse {
  uint32_t engines = 0;        // engines to use; 0 = all the device has
  CopyCompletion completion = CopyCompletion::Interrupt;
  uint32_t max_in_flight = 32;  // descriptors per engine before waiting (below its queue depth)
  double poll_ns = 200;         // CPU time per semaphore poll
};

struct DriverSpec {
  uint32_t fault_buffer_entries = 1024;
  uint32_t batch_count = 256;
  uint32_t max_batches = 20;
  uint32_t max_throttled_batches = 5;  // a bottom half ends after this many batches with throttled faults
  uint32_t tlb_inv_max_ranges = 4;
  // VRAM chunk per aligned VA range: pages migrated into one chunk are
  // physically contiguous, so full 64 KiB / 2 MiB ranges get large PTEs.
  // 4 KiB: each page takes the lowest free frame.
  uint64_t vram_chunk_bytes = 4096;
  // The link carries atomics to system memory (PCIe AtomicOps): remote
  // mappings allow atomics. Otherwise they are mapped atomic-disabled and
  // an atomic to them faults, and the page is migrated.
  bool sysmem_atomics = true;
  CopyEngineUse copy;  // how migrations use the GPU's copy engines
  // The policy families, each chosen by name (see each header).
  PlacementSpec placement;
  PrefetchSpec prefetch;
  EvictionSpec eviction;
  ThrashingSpec thrashing;
  ReplaySpec replay;
  DriverCosts costs;
};

}  // namespace hmmsim::host
