// RootComplex over host::PhysMem: DMA into allocated frames only, the MSI
// window feeding the IrqController, and IrqController::wait semantics.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "host/mm/phys_mem.h"
#include "tests/hw/sc_test_support.h"
#include "tlm_bridge/irq_controller.h"
#include "tlm_bridge/root_complex.h"

using hmmsim::bridge::IrqController;
using hmmsim::bridge::RootComplex;
using hmmsim::bridge::RootComplexSpec;
using hmmsim::host::Pfn;
using hmmsim::host::PhysMem;
using namespace hmmsim::sctest;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

struct Bench {
  explicit Bench(const RootComplexSpec& s = RootComplexSpec{})
      : spec(s), mem(16), irq(4), rc("rc", spec, mem, irq), dma("dma") {
    dma.socket.bind(rc.socket);
  }
  tlm::tlm_response_status msi(uint32_t vector, const sc_time& delay) {
    sc_time d = delay;
    return dma.write(rc.msi_address(), &vector, 4, d);
  }

  const RootComplexSpec spec;
  PhysMem mem;
  IrqController irq;
  RootComplex rc;
  Initiator dma;
};

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), seed);
  return v;
}

}  // namespace

TEST(RootComplex, DmaWriteThenReadRoundTripsFrameBytes) {
  Bench b;
  const Pfn f = b.mem.alloc();
  const Pfn g = b.mem.alloc_contiguous(2);
  ASSERT_NE(f, hmmsim::host::kNoPfn);
  ASSERT_NE(g, hmmsim::host::kNoPfn);
  const auto in = pattern(300, 9), span = pattern(200, 50);
  std::vector<uint8_t> out(300, 0), span_out(200, 0);
  std::vector<tlm::tlm_response_status> r;
  b.dma.body = [&] {
    sc_time d = sc_core::SC_ZERO_TIME;
    r.push_back(b.dma.write(PhysMem::pa(f) + 100, in.data(), 300, d));
    r.push_back(b.dma.read(PhysMem::pa(f) + 100, out.data(), 300, d));
    // Across the boundary of two allocated frames.
    r.push_back(b.dma.write(PhysMem::pa(g) + 4096 - 100, span.data(), 200, d));
    r.push_back(b.dma.read(PhysMem::pa(g) + 4096 - 100, span_out.data(), 200, d));
  };
  sc_core::sc_start();
  for (auto s : r) EXPECT_EQ(s, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(out, in);
  EXPECT_EQ(span_out, span);
  std::vector<uint8_t> direct(300);
  b.mem.read(f, 100, direct.data(), 300);
  EXPECT_EQ(direct, in);
  std::vector<uint8_t> tail(100);
  b.mem.read(g + 1, 0, tail.data(), 100);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), span.begin() + 100));
  EXPECT_EQ(b.rc.s_writes, 2u);
  EXPECT_EQ(b.rc.s_reads, 2u);
  EXPECT_EQ(b.rc.s_bytes, 1000u);
  EXPECT_EQ(b.rc.s_errors, 0u);
}

TEST(RootComplex, DmaTimingIsDramLatencyPlusBandwidthAndQueues) {
  Bench b;
  const Pfn f = b.mem.alloc_contiguous(2);
  std::vector<uint8_t> buf(4096, 1);
  sc_time d1, d2, d3;
  uint64_t t3 = 0;
  b.dma.body = [&] {
    d1 = d2 = sc_core::SC_ZERO_TIME;
    b.dma.write(PhysMem::pa(f), buf.data(), 4096, d1);
    b.dma.write(PhysMem::pa(f + 1), buf.data(), 4096, d2);  // same instant: waits for the first
    sc_core::wait(sc_time(1, sc_core::SC_US));
    t3 = now_ps();
    d3 = sc_time(10, SC_NS);
    b.dma.read(PhysMem::pa(f) + 64, buf.data(), 256, d3);
  };
  sc_core::sc_start();
  const double xfer = 4096 / b.spec.dram_gbps;
  EXPECT_EQ(ps(d1), ps_of_ns(xfer + b.spec.dram_ns));
  EXPECT_EQ(ps(d2), ps_of_ns(2 * xfer + b.spec.dram_ns));
  EXPECT_EQ(ps(d3), ps_of_ns(10 + 256 / b.spec.dram_gbps + b.spec.dram_ns));
  EXPECT_GT(t3, 0u);
}

TEST(RootComplex, DmaToZeroPageOrUnallocatedFrameIsAddressError) {
  Bench b;
  const Pfn f = b.mem.alloc();          // frame 1
  const Pfn unalloc = b.mem.frames() - 1;  // never allocated
  ASSERT_FALSE(b.mem.valid(unalloc));
  ASSERT_FALSE(b.mem.valid(f + 1));
  std::vector<uint8_t> buf(64, 0xCC), zeros_read(64, 0xEE);
  struct Case {
    tlm::tlm_command cmd;
    uint64_t addr;
    uint32_t len;
  };
  const Case bad[] = {
      {tlm::TLM_WRITE_COMMAND, PhysMem::pa(b.mem.zero_pfn()), 64},        // the shared zero page
      {tlm::TLM_WRITE_COMMAND, PhysMem::pa(unalloc) + 8, 64},             // free frame
      {tlm::TLM_READ_COMMAND, PhysMem::pa(unalloc), 64},                  // free frame
      {tlm::TLM_WRITE_COMMAND, PhysMem::pa(f) + 4096 - 32, 64},           // runs into a free frame
      {tlm::TLM_READ_COMMAND, PhysMem::pa(b.mem.frames()) + 128, 16},     // beyond RAM
  };
  std::vector<tlm::tlm_response_status> r;
  tlm::tlm_response_status zero_read = tlm::TLM_INCOMPLETE_RESPONSE;
  b.dma.body = [&] {
    for (auto& c : bad) {
      sc_time d = sc_core::SC_ZERO_TIME;
      r.push_back(b.dma.transport(c.cmd, c.addr, buf.data(), c.len, d));
    }
    sc_time d = sc_core::SC_ZERO_TIME;
    zero_read = b.dma.read(PhysMem::pa(b.mem.zero_pfn()), zeros_read.data(), 64, d);  // reading it is fine
  };
  sc_core::sc_start();
  ASSERT_EQ(r.size(), 5u);
  for (size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i], tlm::TLM_ADDRESS_ERROR_RESPONSE) << "case " << i;
  EXPECT_EQ(b.rc.s_errors, 5u);
  EXPECT_EQ(zero_read, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(zeros_read, std::vector<uint8_t>(64, 0));
  // Nothing was written, not even the allocated half of the straddling write.
  std::vector<uint8_t> z(64, 0xEE), tail(32, 0xEE);
  b.mem.read(b.mem.zero_pfn(), 0, z.data(), 64);
  b.mem.read(f, 4096 - 32, tail.data(), 32);
  EXPECT_EQ(z, std::vector<uint8_t>(64, 0));
  EXPECT_EQ(tail, std::vector<uint8_t>(32, 0));
  EXPECT_EQ(b.rc.s_writes, 0u);
  EXPECT_EQ(b.rc.s_reads, 1u);
}

TEST(RootComplex, MsiRaisesIrqAndWaiterWakesExactlyAtArrival) {
  Bench b;
  uint64_t woke = 0;
  int woke_count = 0;
  tlm::tlm_response_status r1 = tlm::TLM_INCOMPLETE_RESPONSE, r2 = r1;
  Thread waiter("waiter", [&] {
    b.irq.wait(1);
    woke = now_ps();
    ++woke_count;
  });
  b.dma.body = [&] {
    sc_core::wait(sc_time(10, SC_NS));
    r1 = b.msi(2, sc_time(3, SC_NS));  // another vector: does not wake a vector-1 waiter
    sc_core::wait(sc_time(20, SC_NS));
    r2 = b.msi(1, sc_time(25, SC_NS));  // lands at 30 + 25 = 55 ns
  };
  sc_core::sc_start();
  EXPECT_EQ(r1, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(r2, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(woke_count, 1);
  EXPECT_EQ(woke, ps_of_ns(55));
  EXPECT_EQ(b.rc.s_msis, 2u);
  EXPECT_EQ(b.irq.s_raised, 2u);
  EXPECT_EQ(b.rc.s_writes, 0u);  // MSIs are not memory writes
}

TEST(RootComplex, MsiThatArrivedBeforeTheWaitIsNotLost) {
  Bench b;
  std::vector<uint64_t> woke;
  Thread waiter("waiter", [&] {
    sc_core::wait(sc_time(100, SC_NS));
    b.irq.wait(0);  // landed at 5 ns: returns at once
    woke.push_back(now_ps());
    b.irq.wait(0);  // second MSI landed at 7 ns: each MSI is one wake-up
    woke.push_back(now_ps());
    b.irq.wait(0);  // none left: blocks until the one at 200 ns lands
    woke.push_back(now_ps());
  });
  b.dma.body = [&] {
    b.msi(0, sc_time(5, SC_NS));
    b.msi(0, sc_time(7, SC_NS));
    sc_core::wait(sc_time(190, SC_NS));
    b.msi(0, sc_time(10, SC_NS));
  };
  sc_core::sc_start();
  EXPECT_EQ(woke, (std::vector<uint64_t>{ps_of_ns(100), ps_of_ns(100), ps_of_ns(200)}));
  EXPECT_EQ(b.irq.s_raised, 3u);
}

TEST(RootComplex, MsiWindowAcceptsOnlyFourByteWrites) {
  Bench b;
  tlm::tlm_response_status r8 = tlm::TLM_INCOMPLETE_RESPONSE, rr = r8;
  b.dma.body = [&] {
    uint64_t v8 = 1;
    sc_time d = sc_core::SC_ZERO_TIME;
    r8 = b.dma.write(b.rc.msi_address(), &v8, 8, d);
    uint32_t v = 0;
    rr = b.dma.read(b.rc.msi_address(), &v, 4, d);
  };
  sc_core::sc_start();
  EXPECT_NE(r8, tlm::TLM_OK_RESPONSE);
  EXPECT_NE(r8, tlm::TLM_INCOMPLETE_RESPONSE);
  EXPECT_NE(rr, tlm::TLM_OK_RESPONSE);
  EXPECT_NE(rr, tlm::TLM_INCOMPLETE_RESPONSE);
  EXPECT_EQ(b.irq.s_raised, 0u);
  EXPECT_EQ(b.rc.s_msis, 0u);
}

TEST(IrqController, EarlierLandingMsiWakesTheWaiterAtItsOwnArrival) {
  IrqController irq(2);
  uint64_t woke = 0;
  Thread waiter("waiter", [&] {
    sc_core::wait(sc_time(1, SC_NS));  // starts waiting with an MSI pending at 100 ns
    irq.wait(1);
    woke = now_ps();
  });
  Thread raiser("raiser", [&] {
    irq.raise(1, sc_time(100, SC_NS));
    sc_core::wait(sc_time(10, SC_NS));
    irq.raise(1, sc_time(5, SC_NS));  // lands at 15 ns
  });
  sc_core::sc_start();
  EXPECT_EQ(woke, ps_of_ns(15));
}
