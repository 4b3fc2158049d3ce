#pragma once
// The CPU's loads and stores, as a simulated CPU thread makes them: each
// access of a page costs host.cpu_page_access; a page under migration makes
// the thread sleep and retry (as a CPU sleeps on a migration entry), so
// simulated time passes in the calling SC_THREAD.
#include <cstdint>
#include <functional>
#include <string>

#include <systemc>

#include "host/mm/address_space.h"

namespace hmmsim::sim {

class CpuMemory {
 public:
  CpuMemory(host::AddressSpace& mm, double page_access_ns) : m_mm(mm), m_page_time(page_access_ns, sc_core::SC_NS) {}
  // [va, va + len) within one page. False with `error` set when the access
  // fails for good (no mapping, no permission, out of memory). `observe`
  // runs the moment the access takes effect, before the access time passes:
  // an oracle must see it then, not after other threads (the GPU) have run.
  bool access(uint64_t va, uint8_t* buf, uint64_t len, bool write, std::string& error,
              const std::function<void()>& observe = {});

  uint64_t s_retries = 0;  // accesses that waited on a page under migration

 private:
  host::AddressSpace& m_mm;
  const sc_core::sc_time m_page_time;
};

}  // namespace hmmsim::sim
