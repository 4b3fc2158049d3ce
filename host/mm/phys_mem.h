#pragma once
// System RAM: page frames with reference counts and contents in the run's
// data mode (common/page_store.h): a frame never written reads as zeros.
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "common/page_store.h"
#include "host/common/status.h"

namespace hmmsim::host {

using Pfn = uint64_t;
constexpr Pfn kNoPfn = ~0ull;

class PhysMem {
 public:
  // `frames` system pages; frame 0 is the shared zero page and never freed.
  explicit PhysMem(uint64_t frames, common::DataMode mode = common::DataMode::Full);
  common::DataMode data_mode() const { return m_data.mode(); }
  uint64_t data_bytes() const { return m_data.bytes_held(); }

  Pfn zero_pfn() const { return 0; }
  uint64_t frames() const { return m_ref.size(); }
  uint64_t free_frames() const { return m_free.size(); }

  // A zero-filled frame with refcount 1, or kNoPfn when memory is exhausted.
  Pfn alloc();
  // `n` physically contiguous frames (for device rings), lowest first; they
  // keep real bytes whatever the data mode.
  Pfn alloc_contiguous(uint64_t n);
  // A 2 MiB folio: 512 contiguous frames, 2 MiB aligned, each with refcount 1.
  // kNoPfn when no aligned run is free (callers fall back to 4 KiB pages).
  Pfn alloc_huge();
  // Makes the next `n` allocations fail (fault injection for tests).
  void fail_next_allocs(uint32_t n) { m_fail_next = n; }
  // Out of memory: called with the frames asked for when alloc() finds no
  // free frame, or alloc_contiguous() no run long enough, before kNoPfn is
  // returned, as Linux's out_of_memory() calls its OOM notifier chain.
  // Not for alloc_huge(), whose callers fall back to 4 KiB pages (THP), nor
  // for injected failures. The callee may not allocate or free frames.
  using OomNotifier = std::function<void(uint64_t frames)>;
  void set_oom_notifier(OomNotifier fn) { m_oom = std::move(fn); }
  uint64_t used_frames() const { return frames() - free_frames(); }  // the zero page included
  void get(Pfn pfn);
  // Drops one reference; the frame returns to the free list at zero.
  void put(Pfn pfn);
  uint32_t refcount(Pfn pfn) const { return m_ref.at(pfn); }
  bool valid(Pfn pfn) const { return pfn < m_ref.size() && m_ref[pfn] > 0; }

  // Byte access within one frame (off + len <= page size).
  void read(Pfn pfn, uint64_t off, void* dst, uint64_t len) const;
  void write(Pfn pfn, uint64_t off, const void* src, uint64_t len);
  void copy_page(Pfn dst, Pfn src);
  void clear_page(Pfn pfn);

  // Host physical address space: frame N is at N * page size.
  static uint64_t pa(Pfn pfn) { return pfn << kPageShift; }
  static Pfn pfn_of(uint64_t pa) { return pa >> kPageShift; }

  uint64_t s_allocs = 0;
  uint64_t s_frees = 0;
  uint64_t s_alloc_failures = 0;  // alloc() / alloc_contiguous() refused for want of free frames

 private:
  std::vector<uint32_t> m_ref;
  common::PageStore m_data;
  std::vector<Pfn> m_free;  // LIFO, lowest frame first when fresh: deterministic
  uint32_t m_fail_next = 0;
  OomNotifier m_oom;
  Pfn take_run(Pfn first, uint64_t n);
  Pfn out_of_memory(uint64_t frames);
};

}  // namespace hmmsim::host
