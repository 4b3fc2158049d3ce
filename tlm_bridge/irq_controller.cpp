#include "tlm_bridge/irq_controller.h"

#include <algorithm>

namespace hmmsim::bridge {

void IrqController::raise(unsigned vector, const sc_core::sc_time& delay) {
  if (vector >= m_pending.size()) return;  // unknown vector: dropped, like a masked MSI
  ++s_raised;
  auto& q = m_pending[vector];
  const sc_core::sc_time at = sc_core::sc_time_stamp() + delay;
  q.insert(std::upper_bound(q.begin(), q.end(), at), at);
  m_events[vector].notify(delay);
}

void IrqController::wait(unsigned vector) {
  auto& q = m_pending.at(vector);
  for (;;) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    if (!q.empty() && q.front() <= now) {
      q.pop_front();
      return;
    }
    if (!q.empty())
      sc_core::wait(q.front() - now, m_events[vector]);  // an earlier one may still land
    else
      sc_core::wait(m_events[vector]);
  }
}

unsigned IrqController::wait_any(unsigned a, unsigned b) {
  auto& qa = m_pending.at(a);
  auto& qb = m_pending.at(b);
  for (;;) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    for (auto [v, q] : {std::pair<unsigned, std::deque<sc_core::sc_time>*>{a, &qa}, {b, &qb}})
      if (!q->empty() && q->front() <= now) {
        q->pop_front();
        return v;
      }
    sc_core::sc_time next = sc_core::SC_ZERO_TIME;
    for (auto* q : {&qa, &qb})
      if (!q->empty() && (next == sc_core::SC_ZERO_TIME || q->front() - now < next)) next = q->front() - now;
    if (next != sc_core::SC_ZERO_TIME)
      sc_core::wait(next, m_events[a] | m_events[b]);
    else
      sc_core::wait(m_events[a] | m_events[b]);
  }
}

}  // namespace hmmsim::bridge
