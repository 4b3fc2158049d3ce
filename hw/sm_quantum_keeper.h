#pragma once
// The SM's quantum keeper: tlm_quantumkeeper with the kernel's time read
// once per sync instead of at every query. sc_time_stamp() is an
// out-of-line library call, and the SM asked for it about five times per
// instruction (a twentieth of a TLB-resident run). Valid because the SM's
// thread waits only in sync() or in waits it reports through after_wait().
#include <systemc>
#include <tlm_utils/tlm_quantumkeeper.h>

namespace hmmsim::hw {

class SmQuantumKeeper : public tlm_utils::tlm_quantumkeeper {
 public:
  void reset() override {  // (sync() ends with reset())
    tlm_quantumkeeper::reset();
    m_stamp = sc_core::sc_time_stamp();
  }
  // The thread waited outside sync(): the kernel's time moved on, the
  // sync point did not.
  void after_wait() { m_stamp = sc_core::sc_time_stamp(); }

  const sc_core::sc_time& stamp() const { return m_stamp; }  // sc_time_stamp()
  sc_core::sc_time now() const { return m_stamp + m_local_time; }  // get_current_time()
  bool due() const { return m_stamp + m_local_time >= m_next_sync_point; }  // need_sync()
  void set_until(const sc_core::sc_time& at) { m_local_time = at - m_stamp; }  // set(at - stamp)

 private:
  sc_core::sc_time m_stamp;
};

}  // namespace hmmsim::hw
