#pragma once
// Miss status holding registers of one TLB level, in the loosely-timed
// style of the rest of hw/: each miss reserves an entry from its arrival
// until its fill is ready. A miss to a page whose fill is in flight merges
// (waits for that fill); a miss finding every entry busy stalls until the
// first one frees. Times are ns of simulated time. Plain C++.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hmmsim::hw {

class MshrFile {
 public:
  explicit MshrFile(uint32_t capacity);
  uint32_t capacity() const { return m_cap; }
  // Ready time of a fill in flight at `t` that covers `va`, or -1.
  double pending(uint64_t va, double t) const {
    return t >= m_max_ready ? -1.0 : pending_slow(va, t);
  }
  // Reserves an entry for a miss to `va` arriving at `t`; `t` moves later
  // when all entries are busy. Returns the entry's id for complete().
  uint64_t allocate(uint64_t va, double& t);
  // The fill is ready at `ready` and covers [base, base + 2^shift).
  void complete(uint64_t id, uint64_t base, unsigned shift, double ready);

  uint64_t s_allocations = 0, s_stalls = 0;
  double s_stall_ns = 0;

 private:
  double pending_slow(uint64_t va, double t) const;

  uint32_t m_cap;
  size_t m_keep;  // entries remembered at most
  // The entries in allocation order, [m_head, size) remembered, as arrays
  // (ids index them; the merge check scans them): each covers
  // [m_va, m_va + m_bytes) and is busy over [m_start, m_ready).
  std::vector<uint64_t> m_va, m_bytes;
  std::vector<double> m_start, m_ready;
  size_t m_head = 0;
  uint64_t m_base = 0;  // id of the entry at m_head
  double m_max_ready = -1;
  // The remembered entries ordered by start and by ready time (ties by id),
  // so that a full file's sweep counts busy entries by two binary searches
  // instead of a scan per step (random access stalls several times per
  // miss with ~80 fills in flight).
  struct Key {
    double v;
    uint64_t id;
    bool operator<(const Key& o) const { return v != o.v ? v < o.v : id < o.id; }
  };
  // A sorted array that inserts and erases by moving the shorter side:
  // fills are forgotten from the old end and arrive at the new end, so
  // neither shifts the whole array (a free slot run is kept at the front).
  class SortedKeys {
   public:
    const Key* begin() const { return m_v.data() + m_off; }
    const Key* end() const { return m_v.data() + m_v.size(); }
    size_t size() const { return m_v.size() - m_off; }
    const Key& operator[](size_t i) const { return m_v[m_off + i]; }
    void insert(Key k);
    void erase(Key k);

   private:
    std::vector<Key> m_v;
    size_t m_off = 0;
  };
  SortedKeys m_by_start, m_by_ready;
  uint64_t m_inverted = 0;  // remembered entries ready before they start (then: scan)
  size_t index_of(uint64_t id) const { return m_head + size_t(id - m_base); }
  uint32_t busy_at(double t, double& first_free) const;
  // The time a miss arriving at t gets an entry.
  double stall_by_steps(double t) const;
  double stall_by_sweep(double t) const;
};

// Lookups per cycle of a shared structure, counted per cycle so that
// requesters whose local times arrive out of order (temporal decoupling)
// do not queue behind each other's future.
class PortSchedule {
 public:
  PortSchedule(double cycle_ns, uint32_t per_cycle);
  // Start time of a lookup arriving at `t`.
  double reserve(double t);
  double s_wait_ns = 0;

 private:
  struct Slot {
    int64_t cycle = -1;
    uint32_t used = 0;
  };
  double m_cycle;
  uint32_t m_per;
  std::vector<Slot> m_ring;
};

}  // namespace hmmsim::hw
