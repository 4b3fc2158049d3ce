#pragma once
// Where a fault batch's time goes. The pipeline marks which stage it is in;
// simulated time between two marks is charged to the stage that was
// current, so the stages of a batch add up exactly to its service time.
// Nested work (an eviction inside an allocation, the copy inside an
// eviction) is charged to the innermost stage.
#include <array>
#include <cstddef>
#include <cstdint>

#include "common/event_trace.h"
#include "common/histogram.h"

namespace hmmsim::host {

enum class Stage : uint8_t {
  Fetch,       // reading fault entries, coalescing
  Preprocess,  // sort, per-block bookkeeping, permission checks, policy decisions
  RangeFault,  // hmm_range_fault: mirroring CPU page tables
  Migrate,     // migrate_vma setup/finalize: isolating and unmapping CPU pages
  Allocate,    // VRAM frames and page tables, evictions included
  Copy,        // copy-engine transfers
  PteWrite,    // device PTEs written through BAR1
  Invalidate,  // TLB invalidates and their acknowledgement
  Replay,      // fault-buffer flush and the replay command
  kCount
};
constexpr size_t kStageCount = static_cast<size_t>(Stage::kCount);
const char* stage_name(Stage s);

struct BatchStageStats {
  std::array<double, kStageCount> total_ns{};       // over all batches
  std::array<common::Histogram, kStageCount> per_batch;  // ns per batch
  common::Histogram batch_ns;                       // service time per batch
  common::Histogram batch_faults;                   // entries fetched per batch
  common::Histogram batch_unique_pages;             // distinct pages per batch
};

// Only the context (driver thread) that began a batch moves its clock:
// another one running driver code meanwhile (a CPU fault's migrate_to_ram,
// an explicit prefetch) is not part of the batch.
class StageClock {
 public:
  // Starts a batch in `s` at time `now_ps`, owned by context `ctx`.
  void begin(Stage s, uint64_t now_ps, const void* ctx);
  // Charges the time since the last mark to the current stage; `s` is
  // current from now on. Returns the stage that was current. A call from
  // another context changes nothing and returns the current stage.
  Stage mark(Stage s, uint64_t now_ps, const void* ctx);
  // Ends the batch: records its stages and total into `out`.
  void end(uint64_t now_ps, BatchStageStats& out);
  // Drops a batch that found no work: nothing is recorded, and later
  // marks (access-counter service after the batches) move nothing.
  void cancel() { m_active = false; }
  bool active() const { return m_active; }
  // Each stage's stretch of a batch is recorded as a slice on `track`.
  void set_trace(common::EventTrace* trace, common::EventTrace::Track track) {
    m_trace = trace;
    m_track = track;
  }

 private:
  std::array<double, kStageCount> m_ns{};
  Stage m_cur = Stage::Fetch;
  uint64_t m_last = 0, m_start = 0;
  bool m_active = false;
  const void* m_ctx = nullptr;
  common::EventTrace* m_trace = nullptr;
  common::EventTrace::Track m_track = 0;
};

}  // namespace hmmsim::host
