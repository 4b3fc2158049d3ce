#pragma once
// Small SystemC/TLM building blocks for unit tests that elaborate their own
// platform. Each gtest runs in its own process (gtest_discover_tests), so a
// test builds its modules, calls sc_core::sc_start() once and then checks.
// Used by tests/hw/ (links hmm_hw only) and tests/tlm_bridge/.
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

namespace hmmsim::sctest {

// Time in picoseconds (the default, and only supported, time resolution).
inline uint64_t ps(const sc_core::sc_time& t) { return t.value(); }
inline uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }
// A duration in ns rounded to the 1 ps resolution, as sc_time rounds it.
inline uint64_t ps_of_ns(double ns) { return sc_core::sc_time(ns, sc_core::SC_NS).value(); }
inline double abs_diff(uint64_t a, double b) { return a > b ? double(a) - b : b - double(a); }

// A TLM initiator with its own SC_THREAD running `body` (set before sc_start).
class Initiator : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Initiator> socket;
  std::function<void()> body;

  explicit Initiator(sc_core::sc_module_name name, std::function<void()> b = {})
      : sc_module(name), socket("socket"), body(std::move(b)) {
    SC_HAS_PROCESS(Initiator);
    SC_THREAD(run);
  }

  tlm::tlm_response_status transport(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len,
                                     sc_core::sc_time& delay) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(static_cast<unsigned char*>(data));
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_byte_enable_ptr(nullptr);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    socket->b_transport(t, delay);
    return t.get_response_status();
  }
  tlm::tlm_response_status write(uint64_t addr, const void* data, uint32_t len, sc_core::sc_time& delay) {
    return transport(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(data), len, delay);
  }
  tlm::tlm_response_status read(uint64_t addr, void* data, uint32_t len, sc_core::sc_time& delay) {
    return transport(tlm::TLM_READ_COMMAND, addr, data, len, delay);
  }
  unsigned debug(tlm::tlm_command cmd, uint64_t addr, void* data, uint32_t len) {
    tlm::tlm_generic_payload t;
    t.set_command(cmd);
    t.set_address(addr);
    t.set_data_ptr(static_cast<unsigned char*>(data));
    t.set_data_length(len);
    return socket->transport_dbg(t);
  }

 private:
  void run() {
    if (body) body();
  }
};

// A thread with no socket.
class Thread : public sc_core::sc_module {
 public:
  std::function<void()> body;
  explicit Thread(sc_core::sc_module_name name, std::function<void()> b = {})
      : sc_module(name), body(std::move(b)) {
    SC_HAS_PROCESS(Thread);
    SC_THREAD(run);
  }

 private:
  void run() {
    if (body) body();
  }
};

// Stands in for the host side of the link: a flat memory at [0, mem_bytes),
// an MSI doorbell at `msi_addr`, and a log of every write (with the time it
// lands: sc_time_stamp() + annotated delay). Reads add `read_ns`.
class HostTarget : public sc_core::sc_module {
 public:
  struct Write {
    uint64_t addr;
    std::vector<uint8_t> data;
    uint64_t time_ps;
  };
  struct Msi {
    uint32_t vector;
    uint64_t time_ps;
  };

  tlm_utils::simple_target_socket<HostTarget> socket;
  std::vector<uint8_t> mem;
  uint64_t msi_addr;
  double read_ns = 0;
  std::vector<Write> writes;  // memory writes, in call order (MSIs excluded)
  std::vector<Msi> msis;
  std::vector<std::pair<uint64_t, uint32_t>> reads;  // (addr, len)
  uint64_t errors = 0;
  sc_core::sc_event msi_event;  // notified when an MSI lands

  HostTarget(sc_core::sc_module_name name, uint64_t mem_bytes, uint64_t msi)
      : sc_module(name), socket("socket"), mem(mem_bytes, 0), msi_addr(msi) {
    socket.register_b_transport(this, &HostTarget::b_transport);
    socket.register_transport_dbg(this, &HostTarget::transport_dbg);
  }

 private:
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const uint64_t a = t.get_address(), len = t.get_data_length();
    const uint64_t at = now_ps() + ps(delay);
    if (a == msi_addr && t.is_write() && len == 4) {
      uint32_t v;
      std::memcpy(&v, t.get_data_ptr(), 4);
      msis.push_back({v, at});
      msi_event.notify(delay);
      t.set_response_status(tlm::TLM_OK_RESPONSE);
      return;
    }
    if (a + len > mem.size() || a + len < a) {
      ++errors;
      t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (t.is_write()) {
      writes.push_back({a, std::vector<uint8_t>(t.get_data_ptr(), t.get_data_ptr() + len), at});
      std::memcpy(mem.data() + a, t.get_data_ptr(), len);
    } else {
      reads.emplace_back(a, static_cast<uint32_t>(len));
      std::memcpy(t.get_data_ptr(), mem.data() + a, len);
      delay += sc_core::sc_time(read_ns, sc_core::SC_NS);
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  unsigned transport_dbg(tlm::tlm_generic_payload& t) {
    const uint64_t a = t.get_address(), len = t.get_data_length();
    if (a + len > mem.size()) return 0;
    if (t.is_write())
      std::memcpy(mem.data() + a, t.get_data_ptr(), len);
    else
      std::memcpy(t.get_data_ptr(), mem.data() + a, len);
    return static_cast<unsigned>(len);
  }
};

}  // namespace hmmsim::sctest
