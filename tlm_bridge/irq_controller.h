#pragma once
// Counts MSI arrivals per vector; a driver context waits for one. An MSI
// that arrives before anyone waits is kept, never lost.
#include <cstdint>
#include <deque>
#include <vector>

#include <systemc>

namespace hmmsim::bridge {

class IrqController {
 public:
  explicit IrqController(unsigned vectors = 4) : m_pending(vectors), m_events(vectors) {}
  // MSI `vector` lands `delay` from now.
  void raise(unsigned vector, const sc_core::sc_time& delay);
  // Blocks the calling SC_THREAD until an MSI of `vector` has landed; consumes it.
  void wait(unsigned vector);
  // Blocks until an MSI of `a` or `b` has landed; consumes it (`a` first
  // when both have) and returns its vector.
  unsigned wait_any(unsigned a, unsigned b);
  uint64_t s_raised = 0;

 private:
  std::vector<std::deque<sc_core::sc_time>> m_pending;  // arrival times, in order
  std::vector<sc_core::sc_event> m_events;
};

}  // namespace hmmsim::bridge
