#include "hw/sm.h"

#include <algorithm>
#include <functional>

namespace hmmsim::hw {

using sc_core::sc_time;
using sc_core::SC_NS;

Sm::Sm(sc_core::sc_module_name name, unsigned id, const SmSpec& spec, Gmmu& gmmu)
    : sc_module(name),
      vram_socket("vram_socket"),
      host_socket("host_socket"),
      m_id(id),
      m_spec(spec),
      m_cycle(1000.0 / spec.clock_mhz, SC_NS),
      m_gmmu(gmmu),
      m_warps(spec.max_warps),
      m_ctas(spec.max_ctas),
      m_free_warps(spec.max_warps),
      m_free_ctas(spec.max_ctas) {
  if (spec.max_warps > (1u << ReadyEntry::kSlotBits))
    throw std::invalid_argument("Sm: max_warps above " + std::to_string(1u << ReadyEntry::kSlotBits));
  SC_HAS_PROCESS(Sm);
  SC_THREAD(run);
}

bool Sm::fits(unsigned warps) const { return m_free_ctas > 0 && warps <= m_free_warps; }

void Sm::assign(CtaWork&& cta) {
  // Reserve the slots now so the dispatcher's round-robin sees them taken.
  m_free_ctas -= 1;
  m_free_warps -= static_cast<unsigned>(cta.warps.size());
  m_pending.push_back(std::move(cta));
}

void Sm::launch() {
  m_busy = true;
  m_supply_done = false;
  m_launch_ev.notify(sc_core::SC_ZERO_TIME);
}

void Sm::run() {
  m_qk.set_global_quantum(sc_time(m_spec.quantum_ns, SC_NS));
  for (;;) {
    sc_core::wait(m_launch_ev);
    m_qk.reset();
    run_kernel();
    m_finish = sc_core::sc_time_stamp();
    m_busy = false;
    m_done_ev.notify(sc_core::SC_ZERO_TIME);
  }
}

void Sm::start_cta(CtaWork&& cta, const sc_time& at) {
  unsigned slot = 0;
  while (m_ctas[slot].busy) ++slot;
  CtaSlot& s = m_ctas[slot];
  s.busy = true;
  s.warps_left = static_cast<unsigned>(cta.warps.size());
  s.done_at = at;
  if (cta.warps.empty()) {  // a CTA with no warps at all
    s.busy = false;
    ++m_free_ctas;
    ++c.ctas;
    return;
  }
  unsigned wi = 0;
  for (auto& stream : cta.warps) {
    while (m_warps[wi].state != WarpState::Free) ++wi;
    Warp& w = m_warps[wi];
    // Resident slots stay sorted, so ties still go to the lowest slot.
    m_resident.insert(std::lower_bound(m_resident.begin(), m_resident.end(), wi), wi);
    w.stream = std::move(stream);
    w.cta = slot;
    w.state = WarpState::Ready;
    w.next_issue = w.done_at = at;
    w.reg_ready.fill(sc_core::SC_ZERO_TIME);
    ++c.warps;
    // An empty warp ends at once; if it was the CTA's last, the slot is free
    // again and the caller's loop refills it (no recursion through empty CTAs).
    if (!fetch(w))
      release_warp(w);
    else
      make_ready(wi);
  }
}

void Sm::make_ready(unsigned slot) {
  m_ready.push_back(ReadyEntry(m_warps[slot].ready_at.value(), slot));
  std::push_heap(m_ready.begin(), m_ready.end(), std::greater<ReadyEntry>());
}

// Floyd's variant: the hole goes down to a leaf along the earlier children
// (a select, no compare with the moved entry), then the entry climbs back.
// The picked warp's next ready time is usually among the latest, so it
// climbs little, and the data-dependent branch of the plain sift that
// mispredicted on every level is gone.
void Sm::sift_down(size_t i) {
  const size_t n = m_ready.size();
  const ReadyEntry e = m_ready[i];
  const size_t top = i;
  for (size_t c = 2 * i + 1; c < n; c = 2 * i + 1) {
    if (c + 1 < n) c += m_ready[c + 1].key < m_ready[c].key;
    m_ready[i] = m_ready[c];
    i = c;
  }
  while (i > top) {
    const size_t p = (i - 1) / 2;
    if (!(m_ready[p] > e)) break;
    m_ready[i] = m_ready[p];
    i = p;
  }
  m_ready[i] = e;
}

// After the picked warp executed: its entry, at the root unless a CTA
// started meanwhile pushed an earlier warp past it, takes the warp's next
// ready time (one sift instead of a pop and a push) or leaves the heap.
// Keys are unique (slot breaks ties), so the order of picks is the same
// whatever the heap's shape.
void Sm::requeue_picked(unsigned wid) {
  if (m_ready[0].slot() == wid) {
    if (m_requeue) {
      m_ready[0] = ReadyEntry(m_warps[wid].ready_at.value(), wid);
    } else {
      m_ready[0] = m_ready.back();
      m_ready.pop_back();
      if (m_ready.empty()) return;
    }
    sift_down(0);
    return;
  }
  // Displaced (rare): take its entry out, rebuild, push it again if it has work.
  size_t i = 0;
  while (m_ready[i].slot() != wid) ++i;
  m_ready[i] = m_ready.back();
  m_ready.pop_back();
  std::make_heap(m_ready.begin(), m_ready.end(), std::greater<ReadyEntry>());
  if (m_requeue) make_ready(wid);
}

void Sm::pull_ctas(const sc_time& at) {
  while (!m_supply_done && !m_stopped && m_free_ctas > 0) {
    CtaWork cta;
    if (!m_supply(cta)) {
      m_supply_done = true;
      return;
    }
    if (cta.warps.size() > m_free_warps) {
      // The dispatcher only hands out CTAs that fit an empty SM; wait for
      // room. (While the kernel runs, m_pending holds CTAs without slots;
      // before launch, assign() reserved theirs.)
      m_pending.push_back(std::move(cta));
      return;
    }
    m_free_ctas -= 1;
    m_free_warps -= static_cast<unsigned>(cta.warps.size());
    start_cta(std::move(cta), at);
  }
}

void Sm::refill(const sc_time& at) {
  // CTAs that did not fit before go first, in order.
  while (!m_pending.empty() && m_free_ctas > 0 && m_pending.front().warps.size() <= m_free_warps) {
    CtaWork next = std::move(m_pending.front());
    m_pending.erase(m_pending.begin());
    m_free_ctas -= 1;
    m_free_warps -= static_cast<unsigned>(next.warps.size());
    start_cta(std::move(next), at);
  }
  if (m_pending.empty()) pull_ctas(at);
}

bool Sm::fetch(Warp& w) {
  try {
    if (!w.stream->next(w.cur)) return false;
  } catch (const SourceError& e) {
    m_stopped = true;
    m_error(e.what());
    return false;
  }
  sc_time t = w.next_issue;
  for (unsigned i = 0; i < w.cur.nsrc; ++i) t = std::max(t, w.reg_ready[w.cur.src[i]]);
  w.ready_at = t;
  return true;
}

bool Sm::release_warp(Warp& w) {
  // A warp is complete when its last result has arrived, not when it issued.
  for (const sc_time& r : w.reg_ready) w.done_at = std::max(w.done_at, r);
  w.state = WarpState::Free;
  w.stream.reset();
  m_resident.erase(std::find(m_resident.begin(), m_resident.end(), static_cast<unsigned>(&w - m_warps.data())));
  ++m_free_warps;
  CtaSlot& s = m_ctas[w.cta];
  s.done_at = std::max(s.done_at, w.done_at);
  m_finish = std::max(m_finish, w.done_at);
  if (--s.warps_left) return false;
  s.busy = false;
  ++m_free_ctas;
  ++c.ctas;
  return true;
}

void Sm::finish_warp(Warp& w) {
  if (release_warp(w)) refill(m_ctas[w.cta].done_at);
}

void Sm::wake_replayed() {
  // Only a new replay generation can release a warp: skip the scan otherwise.
  if (m_seen_replay_gen == m_gmmu.replay_gen(m_id)) return;
  m_seen_replay_gen = m_gmmu.replay_gen(m_id);
  for (size_t r = 0; r < m_resident.size(); ++r) {
    const unsigned i = m_resident[r];
    Warp& w = m_warps[i];
    if (w.state != WarpState::WaitReplay || w.fault_gen >= m_gmmu.replay_gen(m_id)) continue;
    bool killed = false;
    for (unsigned k = 0; k < w.nfault_pages && !killed; ++k)
      killed = m_gmmu.cancelled(m_id, w.fault_pages[k], w.fault_seq);
    --m_waiting;
    if (killed) {
      ++c.fatal;
      if (m_observer) m_observer->on_fatal(m_id, i, w.fault_pages[0], m_gmmu.replay_time(m_id).value());
      // The warp dies; its slot frees so the rest of the grid still runs.
      w.done_at = std::max(w.done_at, m_gmmu.replay_time(m_id));
      finish_warp(w);  // leaves m_resident: look at this position again
      --r;
      continue;
    }
    w.state = WarpState::Ready;
    // With temporal decoupling the fault may carry a later time stamp than
    // the replay that releases it; never resume before the fault itself.
    w.ready_at = std::max(m_gmmu.replay_time(m_id), w.fault_at);
    c.fault_stall_ns += (w.ready_at - w.fault_at).to_seconds() * 1e9;
    make_ready(i);
  }
}

void Sm::run_kernel() {
  m_finish = sc_core::sc_time_stamp();
  m_stopped = false;
  {
    std::vector<CtaWork> first;
    first.swap(m_pending);
    for (auto& cta : first) start_cta(std::move(cta), sc_core::sc_time_stamp());
  }
  refill(sc_core::sc_time_stamp());
  for (;;) {
    wake_replayed();
    if (m_stopped) break;
    if (m_ready.empty()) {
      if (!m_waiting) break;  // nothing resident can ever run again
      m_qk.sync();            // every warp waits on a fault: sleep until a replay
      sc_core::wait(m_gmmu.replay_event());
      m_qk.after_wait();
      continue;
    }
    // The ready warp that can issue earliest (ties: lowest slot). Its entry
    // stays at the root while it executes and is updated in place after.
    const unsigned wid = m_ready.front().slot();
    m_requeue = false;
    Warp* pick = &m_warps[wid];
    if (pick->ready_at > m_qk.now()) m_qk.set_until(pick->ready_at);
    if (m_qk.due()) m_qk.sync();
    const sc_time issue = m_qk.now();
    execute(*pick, wid, issue);
    requeue_picked(wid);
    // The SM can issue again after its issue slot, whatever the warp waits on.
    m_qk.set_until(issue + m_spec.issue_cycles * m_cycle);
  }
  // A run stopped on bad input leaves warps mid-stream: drop them.
  for (Warp& w : m_warps) {
    w.state = WarpState::Free;
    w.stream.reset();
  }
  m_resident.clear();
  m_ready.clear();
  m_waiting = 0;
  for (CtaSlot& s : m_ctas) s.busy = false;
  m_pending.clear();
  m_free_warps = static_cast<unsigned>(m_warps.size());
  m_free_ctas = static_cast<unsigned>(m_ctas.size());
  // The kernel is done on this SM when its last access has completed.
  if (m_finish > m_qk.get_current_time()) m_qk.set(m_finish - sc_core::sc_time_stamp());
  m_qk.sync();
}

void Sm::execute(Warp& w, unsigned wid, sc_time issue) {
  const WarpInstr& in = w.cur;
  sc_time done = issue;
  if (in.is_global()) {
    if (!execute_global(w, wid, issue, done)) return;  // faulted: waits for a replay
    w.next_issue = issue + m_spec.issue_cycles * m_cycle;
  } else if (in.is_memory()) {
    done = issue + m_spec.shared_cycles * m_cycle;
    w.next_issue = issue + m_spec.issue_cycles * m_cycle;
    ++(in.space == MemSpace::Shared ? c.shared : in.space == MemSpace::Local ? c.local : c.constant);
  } else {
    done = issue + m_spec.compute_cycles * m_cycle;
    w.next_issue = done;
    ++c.compute;
  }
  ++c.instructions;
  for (unsigned i = 0; i < in.ndst; ++i) w.reg_ready[in.dst[i]] = done;
  w.done_at = std::max(w.done_at, done);
  if (!fetch(w))
    finish_warp(w);
  else
    m_requeue = true;  // run_kernel updates its entry (requeue_picked)
}

}  // namespace hmmsim::hw
