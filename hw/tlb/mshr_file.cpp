#include "hw/tlb/mshr_file.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hmmsim::hw {

namespace {
constexpr double kBusy = std::numeric_limits<double>::infinity();
// Requesters' local times differ by at most a few quanta (temporal
// decoupling): entries that freed longer ago than this matter to nobody.
constexpr double kHorizonNs = 2000;
}  // namespace

// At most `capacity` entries are busy at once for in-order arrivals; a few
// times that many recent ones cover requesters whose local times run out
// of order, and bound every scan.
MshrFile::MshrFile(uint32_t capacity) : m_cap(capacity), m_keep(std::max<size_t>(4 * size_t(capacity), 32)) {}

double MshrFile::pending_slow(uint64_t va, double t) const {
  for (const Entry& e : m_e)
    if (va - e.base < e.bytes && e.start <= t && t < e.ready) return e.ready;
  return -1.0;
}

uint64_t MshrFile::allocate(uint64_t va, double& t) {
  // Forget from the oldest end: long freed, or too many (never an
  // unfinished entry: at most one per file, the chain being resolved now).
  while (!m_e.empty() && m_e.front().ready != kBusy &&
         (m_e.front().ready < t - kHorizonNs || m_e.size() >= m_keep)) {
    m_e.pop_front();
    ++m_base;
  }
  // When every known fill has landed nothing can be busy: skip the count.
  bool stalled = false;
  while (t < m_max_ready) {
    uint32_t busy = 0;
    double first_free = kBusy;
    for (const Entry& e : m_e)
      if (e.start <= t && t < e.ready) {
        ++busy;
        first_free = std::min(first_free, e.ready);
      }
    if (busy < m_cap || first_free == kBusy) break;  // (an unfinished chain never blocks itself)
    s_stalls += !stalled;  // a miss counts once, however many fills it waits through
    stalled = true;
    s_stall_ns += first_free - t;
    t = first_free;
  }
  ++s_allocations;
  m_e.push_back(Entry{va & ~0xFFFull, 4096, t, kBusy});
  return m_base + m_e.size() - 1;
}

void MshrFile::complete(uint64_t id, uint64_t base, unsigned shift, double ready) {
  Entry& e = m_e[id - m_base];
  e.base = base;
  e.bytes = 1ull << shift;
  e.ready = ready;
  m_max_ready = std::max(m_max_ready, ready);
}

PortSchedule::PortSchedule(double cycle_ns, uint32_t per_cycle) : m_cycle(cycle_ns), m_per(per_cycle), m_ring(1024) {}

double PortSchedule::reserve(double t) {
  for (int64_t c = static_cast<int64_t>(std::floor(t / m_cycle));; ++c) {
    Slot& s = m_ring[static_cast<size_t>(c) % m_ring.size()];
    if (s.cycle != c) s = Slot{c, 0};
    if (s.used < m_per) {
      ++s.used;
      const double start = std::max(t, double(c) * m_cycle);
      s_wait_ns += start - t;
      return start;
    }
  }
}

}  // namespace hmmsim::hw
