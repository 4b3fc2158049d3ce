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

// Only entries ready after t can be in flight at t: the tail of the
// by-ready order, usually a few of the remembered ones. Of several that
// cover va, the oldest (lowest id) answers, as a scan in allocation order would.
double MshrFile::pending_slow(uint64_t va, double t) const {
  uint64_t best = UINT64_MAX;
  double ready = -1.0;
  for (auto it = std::upper_bound(m_by_ready.begin(), m_by_ready.end(), Key{t, UINT64_MAX}); it != m_by_ready.end();
       ++it) {
    if (it->id >= best) continue;
    const size_t i = index_of(it->id);
    if (va - m_va[i] < m_bytes[i] && m_start[i] <= t) {
      best = it->id;
      ready = m_ready[i];
    }
  }
  return ready;
}

void MshrFile::SortedKeys::insert(Key k) {
  const size_t at = size_t(std::upper_bound(begin(), end(), k) - begin());
  if (m_off > 0 && at < size() - at) {  // the front part moves down into the free slots
    --m_off;
    std::copy(m_v.begin() + long(m_off) + 1, m_v.begin() + long(m_off + at) + 1, m_v.begin() + long(m_off));
    m_v[m_off + at] = k;
    return;
  }
  m_v.insert(m_v.begin() + long(m_off + at), k);
}

void MshrFile::SortedKeys::erase(Key k) {
  const size_t at = size_t(std::lower_bound(begin(), end(), k) - begin());
  if (at == size() || m_v[m_off + at].id != k.id) return;
  if (at < size() - at) {  // the front part moves up, leaving a free slot
    std::copy_backward(m_v.begin() + long(m_off), m_v.begin() + long(m_off + at), m_v.begin() + long(m_off + at) + 1);
    ++m_off;
    if (m_off > 64 && m_off > size()) {  // give the free slots back now and then
      m_v.erase(m_v.begin(), m_v.begin() + long(m_off));
      m_off = 0;
    }
    return;
  }
  m_v.erase(m_v.begin() + long(m_off + at));
}

// Entries busy at t (start <= t < ready) and the first of them to free.
uint32_t MshrFile::busy_at(double t, double& first_free) const {
  first_free = kBusy;
  if (m_inverted) {  // the counting below assumes start <= ready: scan instead
    uint32_t busy = 0;
    for (size_t i = m_head; i < m_start.size(); ++i)
      if (m_start[i] <= t && t < m_ready[i]) {
        ++busy;
        first_free = std::min(first_free, m_ready[i]);
      }
    return busy;
  }
  const Key at{t, UINT64_MAX};
  const size_t started = size_t(std::upper_bound(m_by_start.begin(), m_by_start.end(), at) - m_by_start.begin());
  const auto freed = std::upper_bound(m_by_ready.begin(), m_by_ready.end(), at);
  const uint32_t busy = uint32_t(started - size_t(freed - m_by_ready.begin()));
  // The earliest ready time after t among entries that have started.
  for (auto it = freed; busy && it != m_by_ready.end(); ++it)
    if (m_start[index_of(it->id)] <= t) {
      first_free = it->v;
      break;
    }
  return busy;
}

// The definition: while every entry is busy, wait for the first of them to
// free (an unfinished chain never blocks itself: it has no time to wait for).
double MshrFile::stall_by_steps(double t) const {
  while (t < m_max_ready) {
    double first_free;
    const uint32_t busy = busy_at(t, first_free);
    if (busy < m_cap || first_free == kBusy) break;
    t = first_free;
  }
  return t;
}

// The same answer in one pass over the ready times after t. The busy count
// only falls at a ready time; visiting ready times of entries that had not
// started (which the steps skip) changes nothing: every entry busy at the
// step's start is still busy there, so the count is still full.
double MshrFile::stall_by_sweep(double t) const {
  const Key at{t, UINT64_MAX};
  size_t started = size_t(std::upper_bound(m_by_start.begin(), m_by_start.end(), at) - m_by_start.begin());
  size_t freed = size_t(std::upper_bound(m_by_ready.begin(), m_by_ready.end(), at) - m_by_ready.begin());
  for (;;) {
    const size_t busy = started - freed;
    if (busy < m_cap) break;
    // Busy entries that will never free on their own (unfinished chains, at
    // the tail of the ready order): if they are all there is, nothing frees.
    size_t unfinished = 0;
    for (size_t k = m_by_ready.size(); k > freed && m_by_ready[k - 1].v == kBusy; --k)
      unfinished += m_start[index_of(m_by_ready[k - 1].id)] <= t;
    if (busy <= unfinished) break;
    t = m_by_ready[freed].v;
    while (freed < m_by_ready.size() && m_by_ready[freed].v <= t) ++freed;
    while (started < m_by_start.size() && m_by_start[started].v <= t) ++started;
    if (t >= m_max_ready) break;
  }
  return t;
}

uint64_t MshrFile::allocate(uint64_t va, double& t) {
  // Forget from the oldest end: long freed, or too many (never an
  // unfinished entry: at most one per file, the chain being resolved now).
  while (m_head < m_start.size() && m_ready[m_head] != kBusy &&
         (m_ready[m_head] < t - kHorizonNs || m_start.size() - m_head >= m_keep)) {
    m_by_start.erase({m_start[m_head], m_base});
    m_by_ready.erase({m_ready[m_head], m_base});
    m_inverted -= m_ready[m_head] < m_start[m_head];
    ++m_head;
    ++m_base;
  }
  if (m_head >= 4 * m_keep) {  // drop the forgotten entries' storage, now and then
    for (auto* v : {&m_start, &m_ready}) v->erase(v->begin(), v->begin() + long(m_head));
    for (auto* v : {&m_va, &m_bytes}) v->erase(v->begin(), v->begin() + long(m_head));
    m_head = 0;
  }
  // When every known fill has landed nothing can be busy: skip the count.
  if (t < m_max_ready) {
    const double t0 = t;
    t = m_inverted ? stall_by_steps(t) : stall_by_sweep(t);
    if (t != t0) {
      ++s_stalls;  // a miss counts once, however many fills it waits through
      s_stall_ns += t - t0;
    }
  }
  ++s_allocations;
  const uint64_t id = m_base + (m_start.size() - m_head);
  m_va.push_back(va & ~0xFFFull);
  m_bytes.push_back(4096);
  m_start.push_back(t);
  m_ready.push_back(kBusy);
  m_by_start.insert({t, id});
  m_by_ready.insert({kBusy, id});
  return id;
}

void MshrFile::complete(uint64_t id, uint64_t base, unsigned shift, double ready) {
  const size_t i = index_of(id);
  m_by_ready.erase({m_ready[i], id});
  m_by_ready.insert({ready, id});
  m_inverted += ready < m_start[i];
  m_va[i] = base;
  m_bytes[i] = 1ull << shift;
  m_ready[i] = ready;
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
