// PcieLink timing and accounting, against the PCIe arithmetic alone (one
// fixed per-TLP overhead here; per-kind overheads, Flit Mode and the
// analytical DMA rates are in test_pcie_bandwidth.cpp):
//   raw bandwidth  = GT/s x lanes x line-code efficiency / 8   (bytes/ns)
//   usable bw      = raw x (1 - dllp_overhead)
//   a posted write of N bytes = ceil(N / mps) TLPs; it occupies its direction for
//   (N + TLPs x tlp_overhead) / bw and lands `latency` after its last byte left;
//   a read sends ceil(N / mrrs) header-only requests one way and
//   ceil(N / mps) completions with the data the other way.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "tests/hw/sc_test_support.h"
#include "tlm_bridge/pcie_link.h"

using hmmsim::bridge::LinkDirectionStats;
using hmmsim::bridge::PcieLink;
using hmmsim::bridge::PcieSpec;
using namespace hmmsim::sctest;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

PcieSpec spec_of(uint32_t gen, uint32_t lanes) {
  PcieSpec s;
  s.gen = gen;
  s.lanes = lanes;
  return s;
}

// A link endpoint: logs when each request lands, serves reads with bytes
// derived from the address, and takes `serve_ns` to do either.
class Endpoint : public sc_core::sc_module {
 public:
  struct Arrival {
    bool write;
    uint64_t addr;
    uint32_t len;
    uint64_t time_ps;
  };
  tlm_utils::simple_target_socket<Endpoint> socket;
  double serve_ns = 0;
  std::vector<Arrival> log;

  explicit Endpoint(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &Endpoint::b_transport);
    socket.register_transport_dbg(this, &Endpoint::dbg);
  }
  static uint8_t byte_at(uint64_t a) { return static_cast<uint8_t>(a * 13 + (a >> 8)); }

 private:
  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    log.push_back({t.is_write(), t.get_address(), t.get_data_length(), now_ps() + ps(delay)});
    if (t.is_read())
      for (uint32_t i = 0; i < t.get_data_length(); ++i) t.get_data_ptr()[i] = byte_at(t.get_address() + i);
    delay += sc_time(serve_ns, SC_NS);
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  unsigned dbg(tlm::tlm_generic_payload& t) {
    if (t.is_read())
      for (uint32_t i = 0; i < t.get_data_length(); ++i) t.get_data_ptr()[i] = byte_at(t.get_address() + i);
    return t.get_data_length();
  }
};

// An unusual link, so no default value can make a wrong formula pass.
PcieSpec odd_spec() {
  PcieSpec s;
  s.gen = 3;
  s.lanes = 8;
  s.mps = 128;
  s.mrrs = 512;
  s.tlp_overhead_bytes = 20;
  s.dllp_overhead = 0.05;
  s.latency_ns = 200;
  return s;
}

struct Bench {
  explicit Bench(const PcieSpec& s = odd_spec())
      : spec(s), link("pcie", spec), host("host"), dev("dev"), devi("devi"), hostmem("hostmem") {
    host.socket.bind(link.down_target);
    link.down_initiator.bind(dev.socket);
    devi.socket.bind(link.up_target);
    link.up_initiator.bind(hostmem.socket);
  }
  double bw() const { return spec.raw_gbps() * (1.0 - *spec.dllp_overhead); }
  static uint64_t tlps(uint64_t n, uint64_t max) { return std::max<uint64_t>(1, (n + max - 1) / max); }
  // Serialisation time of a write / completion stream of n data bytes.
  double ser_data(uint64_t n) const { return double(n + tlps(n, spec.mps) * *spec.tlp_overhead_bytes) / bw(); }
  // Serialisation time of the read requests for n bytes.
  double ser_req(uint64_t n) const { return double(tlps(n, spec.mrrs) * *spec.tlp_overhead_bytes) / bw(); }

  const PcieSpec spec;
  PcieLink link;
  Initiator host;
  Endpoint dev;
  Initiator devi;
  Endpoint hostmem;
};

#define EXPECT_PS_NEAR(actual_ps, expected_ns) \
  EXPECT_LE(abs_diff((actual_ps), 1000.0 * (expected_ns)), 1.0) << "got " << (actual_ps) << " ps, want " << 1000.0 * (expected_ns)

void expect_stats(const LinkDirectionStats& s, uint64_t tlps, uint64_t payload, uint64_t wire, const char* dir) {
  EXPECT_EQ(s.s_tlps, tlps) << dir;
  EXPECT_EQ(s.s_payload_bytes, payload) << dir;
  EXPECT_EQ(s.s_wire_bytes, wire) << dir;
}

}  // namespace

TEST(PcieSpec, RawBandwidthFollowsGenerationLanesAndEncoding) {
  EXPECT_DOUBLE_EQ(spec_of(3, 16).raw_gbps(), 8.0 * 16 * 128 / 130 / 8);
  EXPECT_DOUBLE_EQ(spec_of(1, 1).raw_gbps(), 2.5 * 0.8 / 8);
  EXPECT_DOUBLE_EQ(spec_of(1, 1).raw_gbps(), 0.25);
  EXPECT_DOUBLE_EQ(spec_of(2, 4).raw_gbps(), 5.0 * 4 * 0.8 / 8);
  EXPECT_DOUBLE_EQ(spec_of(4, 16).raw_gbps(), 16.0 * 16 * 128 / 130 / 8);
  EXPECT_DOUBLE_EQ(spec_of(5, 8).raw_gbps(), 32.0 * 8 * 128 / 130 / 8);
  EXPECT_DOUBLE_EQ(spec_of(6, 16).raw_gbps(), 64.0 * 16 * 236 / 256 / 8);  // 1b/1b, 236 TLP bytes a flit
  EXPECT_DOUBLE_EQ(spec_of(3, 1).raw_gbps() * 16, spec_of(3, 16).raw_gbps());
}

TEST(PcieSpec, InvalidGenerationThrows) {
  EXPECT_THROW(spec_of(0, 16).raw_gbps(), std::invalid_argument);
  EXPECT_THROW(spec_of(7, 16).raw_gbps(), std::invalid_argument);
  EXPECT_THROW(spec_of(100, 1).raw_gbps(), std::invalid_argument);
}

TEST(PcieLink, PostedWriteArrivesAfterSerialisationPlusLatency) {
  Bench b;
  const uint64_t n = 1000;  // 8 TLPs of <= 128 B
  std::vector<uint8_t> buf(n, 0x11);
  sc_time d;
  tlm::tlm_response_status r = tlm::TLM_INCOMPLETE_RESPONSE;
  b.host.body = [&] {
    sc_core::wait(sc_time(50, SC_NS));
    d = sc_time(10, SC_NS);  // the request leaves at its annotated time, 60 ns
    r = b.host.write(0x1000, buf.data(), n, d);
  };
  sc_core::sc_start();
  EXPECT_EQ(r, tlm::TLM_OK_RESPONSE);
  ASSERT_EQ(b.dev.log.size(), 1u);
  EXPECT_TRUE(b.dev.log[0].write);
  EXPECT_EQ(b.dev.log[0].len, n);
  const double ser = double(n + 8 * 20) / b.bw();
  EXPECT_NEAR(ser, b.ser_data(n), 1e-12);
  EXPECT_PS_NEAR(b.dev.log[0].time_ps, 60 + ser + b.spec.latency_ns);
  EXPECT_PS_NEAR(ps(d), 10 + ser + b.spec.latency_ns);  // relative to the caller's 50 ns
  expect_stats(b.link.down, 8, n, n + 8 * 20, "down");
  expect_stats(b.link.up, 0, 0, 0, "up");
  EXPECT_NEAR(b.link.down.s_busy_ns, ser, 1e-9);
  EXPECT_EQ(b.hostmem.log.size(), 0u);
}

TEST(PcieLink, BackToBackWritesQueueOnTheirDirectionOnly) {
  Bench b;
  const uint64_t n = 4096;  // 32 TLPs
  std::vector<uint8_t> buf(n, 0x22);
  sc_time d1, d2, du;
  uint64_t t_late = 0;
  b.host.body = [&] {
    d1 = d2 = sc_core::SC_ZERO_TIME;
    b.host.write(0x0, buf.data(), n, d1);
    b.host.write(0x10000, buf.data(), n, d2);
    sc_core::wait(sc_time(10, sc_core::SC_US));  // the direction is idle again
    t_late = now_ps();
    sc_time d = sc_core::SC_ZERO_TIME;
    b.host.write(0x20000, buf.data(), 64, d);
  };
  b.devi.body = [&] {
    du = sc_core::SC_ZERO_TIME;
    b.devi.write(0x5000, buf.data(), n, du);
  };
  sc_core::sc_start();
  const double ser = b.ser_data(n), lat = b.spec.latency_ns;
  ASSERT_EQ(b.dev.log.size(), 3u);
  EXPECT_PS_NEAR(b.dev.log[0].time_ps, ser + lat);
  EXPECT_PS_NEAR(b.dev.log[1].time_ps, 2 * ser + lat);  // waited one serialisation time
  EXPECT_PS_NEAR(ps(d2) - ps(d1), ser);
  EXPECT_PS_NEAR(b.dev.log[2].time_ps, t_late / 1000.0 + b.ser_data(64) + lat);
  ASSERT_EQ(b.hostmem.log.size(), 1u);
  EXPECT_PS_NEAR(b.hostmem.log[0].time_ps, ser + lat);  // the other direction did not queue
  EXPECT_PS_NEAR(ps(du), ser + lat);
  expect_stats(b.link.down, 32 + 32 + 1, 2 * n + 64, 2 * n + 64 + 65 * 20, "down");
  expect_stats(b.link.up, 32, n, n + 32 * 20, "up");
}

TEST(PcieLink, NonPostedReadPaysRequestTargetAndCompletion) {
  Bench b;
  b.dev.serve_ns = 100;
  b.hostmem.serve_ns = 37;
  const uint64_t n = 1000;  // 2 requests (mrrs 512), 8 completions (mps 128)
  std::vector<uint8_t> down_buf(n, 0), up_buf(300, 0);
  sc_time dd, du;
  uint64_t t_up = 0;
  b.host.body = [&] {
    dd = sc_core::SC_ZERO_TIME;
    b.host.read(0x4000, down_buf.data(), n, dd);
    sc_core::wait(sc_time(5, sc_core::SC_US));
    t_up = now_ps();
    du = sc_core::SC_ZERO_TIME;
    b.devi.read(0x9000, up_buf.data(), 300, du);  // device reads host memory: 1 request, 3 completions
  };
  sc_core::sc_start();
  const double lat = b.spec.latency_ns;
  const double req = 2.0 * 20 / b.bw(), cpl = double(n + 8 * 20) / b.bw();
  EXPECT_NEAR(req, b.ser_req(n), 1e-12);
  EXPECT_PS_NEAR(ps(dd), req + lat + 100 + cpl + lat);
  ASSERT_EQ(b.dev.log.size(), 1u);
  EXPECT_FALSE(b.dev.log[0].write);
  EXPECT_PS_NEAR(b.dev.log[0].time_ps, req + lat);  // the request landed
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(down_buf[i], Endpoint::byte_at(0x4000 + i)) << i;
  EXPECT_PS_NEAR(ps(du), 20 / b.bw() + lat + 37 + double(300 + 3 * 20) / b.bw() + lat);
  ASSERT_EQ(b.hostmem.log.size(), 1u);
  EXPECT_PS_NEAR(b.hostmem.log[0].time_ps, t_up / 1000.0 + 20 / b.bw() + lat);
  for (uint64_t i = 0; i < 300; ++i) ASSERT_EQ(up_buf[i], Endpoint::byte_at(0x9000 + i)) << i;
  // Requests carry no payload; completions carry the data back.
  expect_stats(b.link.down, 2 + 3, 300, 2 * 20 + 300 + 3 * 20, "down");
  expect_stats(b.link.up, 8 + 1, n, n + 8 * 20 + 20, "up");
}

TEST(PcieLink, ReadCompletionsQueueBehindUpstreamWrites) {
  Bench b;
  const uint64_t n = 4096;
  std::vector<uint8_t> big(n, 0x33), small(64, 0);
  sc_time dr;
  b.host.body = [&] {
    sc_time d = sc_core::SC_ZERO_TIME;
    b.devi.write(0x0, big.data(), n, d);  // the upstream direction is busy for ser_data(4096)
    dr = sc_core::SC_ZERO_TIME;
    b.host.read(0x100, small.data(), 64, dr);  // served long before the upstream frees
  };
  sc_core::sc_start();
  const double lat = b.spec.latency_ns;
  ASSERT_GT(b.ser_data(n), b.ser_req(64) + lat);  // the premise
  EXPECT_PS_NEAR(ps(dr), b.ser_data(n) + b.ser_data(64) + lat);
}

TEST(PcieLink, DebugTransportPassesThroughUntimedAndUncounted) {
  Bench b;
  std::vector<uint8_t> buf(256, 0), buf2(16, 0);
  unsigned n_down = 0, n_up = 0;
  uint64_t t = 1;
  b.host.body = [&] {
    n_down = b.host.debug(tlm::TLM_READ_COMMAND, 0x700, buf.data(), 256);
    n_up = b.devi.debug(tlm::TLM_READ_COMMAND, 0x800, buf2.data(), 16);
    t = now_ps();
  };
  sc_core::sc_start();
  EXPECT_EQ(n_down, 256u);
  EXPECT_EQ(n_up, 16u);
  EXPECT_EQ(buf[5], Endpoint::byte_at(0x705));
  EXPECT_EQ(buf2[3], Endpoint::byte_at(0x803));
  EXPECT_EQ(t, 0u);
  expect_stats(b.link.down, 0, 0, 0, "down");
  expect_stats(b.link.up, 0, 0, 0, "up");
  EXPECT_TRUE(b.dev.log.empty());
}
