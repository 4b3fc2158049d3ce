// The Gpu module as the link sees it: a test initiator drives bar_socket
// (BAR0 registers at hwref::kBar0Base, VRAM aperture at hwref::kBar1Base) and
// a stand-in host on host_socket serves system memory and records MSIs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "hw/gpu.h"
#include "hwref/gpu_regs.h"
#include "hwref/page_table_format.h"
#include "tests/hw/gpu_bench.h"
#include "tests/hw/list_kernel.h"
#include "tests/hw/pt_builder.h"
#include "tests/hw/sc_test_support.h"

using hmmsim::hw::Gpu;
using hmmsim::hw::GpuSpec;
using hmmsim::hw::IAccessObserver;
using hmmsim::hwref::CeDir;
namespace bar0 = hmmsim::hwref::bar0;
namespace pt = hmmsim::hwref::pt;
using hmmsim::hwref::kBar1Base;
using hmmsim::hwref::kIdValue;
using hmmsim::hwref::kMsiVectorCopy;
using namespace hmmsim::sctest;
using sc_core::SC_NS;
using sc_core::sc_time;


TEST(GpuBar0, IdRegisterReadsIdValue) {
  Bench b;
  uint32_t id = 0, id_after_write = 0, dbg_id = 0;
  unsigned dbg_n = 0;
  sc_time d;
  b.drv.body = [&] {
    d = sc_core::SC_ZERO_TIME;
    b.drv.read(bar0::kId, &id, 4, d);
    sc_core::wait(d);
    b.w32(bar0::kId, 0x12345678);  // read-only
    id_after_write = b.r32(bar0::kId);
    dbg_n = b.drv.debug(tlm::TLM_READ_COMMAND, bar0::kId, &dbg_id, 4);
  };
  sc_core::sc_start();
  EXPECT_EQ(id, kIdValue);
  EXPECT_EQ(ps(d), ps_of_ns(b.spec.bar0_access_ns));
  EXPECT_EQ(id_after_write, kIdValue);
  EXPECT_EQ(dbg_n, 4u);
  EXPECT_EQ(dbg_id, kIdValue);
  EXPECT_EQ(b.gpu.s_bar0_reads, 2u);
  EXPECT_EQ(b.gpu.s_bar0_writes, 1u);
  EXPECT_EQ(b.gpu.s_decode_errors, 0u);
}

TEST(GpuBar0, BadAccessesGiveErrorResponsesAndCount) {
  Bench b;
  struct Case {
    tlm::tlm_command cmd;
    uint64_t addr;
    uint32_t len;
  };
  const Case bad_addr[] = {
      {tlm::TLM_READ_COMMAND, bar0::kSize, 4},             // past the register file
      {tlm::TLM_READ_COMMAND, kBar1Base - 4, 4},           // the hole below BAR1
      {tlm::TLM_READ_COMMAND, bar0::kId + 2, 4},           // misaligned
      {tlm::TLM_WRITE_COMMAND, bar0::kCeDoorbell + 1, 4},  // misaligned write: no side effect
  };
  const Case bad_width[] = {
      {tlm::TLM_READ_COMMAND, bar0::kId, 8},
      {tlm::TLM_WRITE_COMMAND, bar0::kCeDoorbell, 2},
      {tlm::TLM_READ_COMMAND, bar0::kFaultBufPut, 1},
  };
  std::vector<tlm::tlm_response_status> ra, rw;
  tlm::tlm_response_status last_ok = tlm::TLM_INCOMPLETE_RESPONSE;
  b.drv.body = [&] {
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (auto& c : bad_addr) {
      sc_time d = sc_core::SC_ZERO_TIME;
      ra.push_back(b.drv.transport(c.cmd, c.addr, buf, c.len, d));
      sc_core::wait(d);
    }
    for (auto& c : bad_width) {
      sc_time d = sc_core::SC_ZERO_TIME;
      rw.push_back(b.drv.transport(c.cmd, c.addr, buf, c.len, d));
      sc_core::wait(d);
    }
    sc_time d = sc_core::SC_ZERO_TIME;
    last_ok = b.drv.read(bar0::kSize - 4, buf, 4, d);  // the last register is fine
  };
  sc_core::sc_start();
  for (size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(ra[i], tlm::TLM_ADDRESS_ERROR_RESPONSE) << "case " << i;
  for (size_t i = 0; i < rw.size(); ++i) {
    EXPECT_NE(rw[i], tlm::TLM_OK_RESPONSE) << "case " << i;
    EXPECT_NE(rw[i], tlm::TLM_INCOMPLETE_RESPONSE) << "case " << i;
  }
  EXPECT_EQ(last_ok, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(b.gpu.s_decode_errors, 7u);
  EXPECT_EQ(b.gpu.s_bar0_reads, 1u);
  EXPECT_EQ(b.gpu.s_bar0_writes, 0u);
  EXPECT_EQ(b.gpu.copy_engine().s_copies, 0u);
  EXPECT_TRUE(b.host.msis.empty());
}

TEST(GpuBar1, WritesLandInVramAndReadBack) {
  Bench b;
  const auto in = pattern(64, 3);
  std::vector<uint8_t> dbg(64, 0), timed(64, 0), dbg_in = pattern(32, 99);
  tlm::tlm_response_status rw = tlm::TLM_INCOMPLETE_RESPONSE, rr = rw, rbad = rw;
  unsigned n_dbg = 0, n_dbg_w = 0;
  sc_time dw;
  b.drv.body = [&] {
    dw = sc_core::SC_ZERO_TIME;
    rw = b.drv.write(kBar1Base + 0x3000, in.data(), 64, dw);
    sc_core::wait(dw);
    n_dbg = b.drv.debug(tlm::TLM_READ_COMMAND, kBar1Base + 0x3000, dbg.data(), 64);
    sc_time d = sc_core::SC_ZERO_TIME;
    rr = b.drv.read(kBar1Base + 0x3000, timed.data(), 64, d);
    sc_core::wait(d);
    n_dbg_w = b.drv.debug(tlm::TLM_WRITE_COMMAND, kBar1Base + 0x9000, dbg_in.data(), 32);
    d = sc_core::SC_ZERO_TIME;
    rbad = b.drv.read(kBar1Base + b.spec.vram.capacity_bytes - 4, timed.data(), 8, d);
  };
  sc_core::sc_start();
  EXPECT_EQ(rw, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(rr, tlm::TLM_OK_RESPONSE);
  // BAR1 adds no register decode time: the VRAM first-access time only.
  const auto& v = b.spec.vram;
  EXPECT_EQ(ps(dw), ps_of_ns(v.t_rcd_ns + v.t_cl_ns + 64 / v.channel_gbps));
  EXPECT_EQ(n_dbg, 64u);
  EXPECT_EQ(dbg, in);
  EXPECT_EQ(timed, in);
  EXPECT_EQ(b.vram(0x3000, 64), in);
  EXPECT_EQ(n_dbg_w, 32u);
  EXPECT_EQ(b.vram(0x9000, 32), dbg_in);
  EXPECT_EQ(rbad, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(b.gpu.vram().s_decode_errors, 1u);
  EXPECT_EQ(b.gpu.s_bar0_reads + b.gpu.s_bar0_writes, 0u);
}

TEST(GpuCopyEngine, FillZeroAndDeviceToDeviceCompleteWithSeqAndOneMsi) {
  Bench b;
  auto& core = b.gpu.vram().core();
  const std::vector<uint8_t> junk(2048 + 64, 0xAB);
  core.write(0x20000, junk.data(), junk.size());
  const auto src = pattern(8192, 11);
  core.write(0x30000, src.data(), src.size());
  uint64_t t_fill = 0, t_d2d = 0;
  uint32_t seq_before = 99, seq_fill = 0, seq_d2d = 0;
  size_t msis_at_fill = 0;
  b.drv.body = [&] {
    b.w64(bar0::kMsiAddrLo, kMsi);
    b.w32(bar0::kIntrEnable, hmmsim::hwref::kIntrCopy);  // copy MSIs are opt-in
    seq_before = b.r32(bar0::kCeDoneSeq);
    t_fill = b.copy(0, 0x20000, 2048, CeDir::FillZero, 7);
    b.wait_msis(1);
    seq_fill = b.r32(bar0::kCeDoneSeq);
    msis_at_fill = b.host.msis.size();
    t_d2d = b.copy(0x30000, 0x48000, 8192, CeDir::DeviceToDevice, 8);
    b.wait_msis(2);
    seq_d2d = b.r32(bar0::kCeDoneSeq);
    sc_core::wait(sc_time(10, sc_core::SC_US));  // nothing else may arrive
  };
  sc_core::sc_start();
  EXPECT_EQ(seq_before, 0u);
  EXPECT_EQ(seq_fill, 7u);
  EXPECT_EQ(seq_d2d, 8u);
  EXPECT_EQ(msis_at_fill, 1u);
  ASSERT_EQ(b.host.msis.size(), 2u);
  EXPECT_EQ(b.host.msis[0].vector, kMsiVectorCopy);
  EXPECT_EQ(b.host.msis[1].vector, kMsiVectorCopy);
  // Doorbell decode + descriptor setup + 2 KiB written as 8 parallel 256 B chunks.
  const auto& v = b.spec.vram;
  const double fill_ns = b.spec.bar0_access_ns + b.spec.ce.setup_ns + v.t_rcd_ns + v.t_cl_ns + 256 / v.channel_gbps;
  EXPECT_LE(abs_diff(b.host.msis[0].time_ps, double(t_fill) + 1000 * fill_ns), 1.0)
      << b.host.msis[0].time_ps - t_fill;
  EXPECT_GT(b.host.msis[1].time_ps, t_d2d + ps_of_ns(b.spec.bar0_access_ns + b.spec.ce.setup_ns));
  EXPECT_EQ(b.vram(0x20000, 2048), std::vector<uint8_t>(2048, 0));
  EXPECT_EQ(b.vram(0x20000 + 2048, 64), std::vector<uint8_t>(64, 0xAB));  // only len bytes
  EXPECT_EQ(b.vram(0x48000, 8192), src);
  EXPECT_EQ(b.vram(0x30000, 8192), src);
  auto& ce = b.gpu.copy_engine();
  EXPECT_EQ(ce.s_copies, 2u);
  EXPECT_EQ(ce.s_bytes_d2d, 8192u);
  EXPECT_EQ(ce.s_errors, 0u);
  EXPECT_TRUE(b.host.writes.empty());
}

TEST(GpuCopyEngine, HostToDeviceAndBackMoveHostMemory) {
  GpuSpec spec = small_gpu();
  spec.ce.chunk_bytes = 4096;
  Bench b(spec);
  const auto src = pattern(3 * 4096 + 100, 5);  // four CE chunks, the last one short
  std::copy(src.begin(), src.end(), b.host.mem.begin() + 0x100000);
  uint32_t seq1 = 0, seq2 = 0;
  b.drv.body = [&] {
    b.w64(bar0::kMsiAddrLo, kMsi);
    b.w32(bar0::kIntrEnable, hmmsim::hwref::kIntrCopy);  // copy MSIs are opt-in
    b.copy(0x100000, 0x60000, static_cast<uint32_t>(src.size()), CeDir::HostToDevice, 41);
    b.wait_msis(1);
    seq1 = b.r32(bar0::kCeDoneSeq);
    b.copy(0x60000, 0x200000, static_cast<uint32_t>(src.size()), CeDir::DeviceToHost, 42);
    b.wait_msis(2);
    seq2 = b.r32(bar0::kCeDoneSeq);
    sc_core::wait(sc_time(10, sc_core::SC_US));
  };
  sc_core::sc_start();
  EXPECT_EQ(seq1, 41u);
  EXPECT_EQ(seq2, 42u);
  ASSERT_EQ(b.host.msis.size(), 2u);
  EXPECT_EQ(b.host.msis[0].vector, kMsiVectorCopy);
  EXPECT_EQ(b.host.msis[1].vector, kMsiVectorCopy);
  EXPECT_EQ(b.vram(0x60000, src.size()), src);
  EXPECT_TRUE(std::equal(src.begin(), src.end(), b.host.mem.begin() + 0x200000));
  // The host saw reads of exactly the source range, and writes of exactly the destination.
  uint64_t read_bytes = 0, written = 0;
  for (auto& [a, n] : b.host.reads) {
    EXPECT_GE(a, 0x100000u);
    EXPECT_LE(a + n, 0x100000u + src.size());
    read_bytes += n;
  }
  for (auto& w : b.host.writes) {
    EXPECT_GE(w.addr, 0x200000u);
    EXPECT_LE(w.addr + w.data.size(), 0x200000u + src.size());
    written += w.data.size();
  }
  EXPECT_EQ(read_bytes, src.size());
  EXPECT_EQ(written, src.size());
  EXPECT_EQ(b.host.reads.size(), 4u);
  EXPECT_EQ(b.host.writes.size(), 4u);
  auto& ce = b.gpu.copy_engine();
  EXPECT_EQ(ce.s_bytes_h2d, src.size());
  EXPECT_EQ(ce.s_bytes_d2h, src.size());
  EXPECT_EQ(ce.s_errors, 0u);
}

TEST(GpuCopyEngine, BadDescriptorStillCompletes) {
  Bench b;
  uint32_t seq = 0;
  b.drv.body = [&] {
    b.w64(bar0::kMsiAddrLo, kMsi);
    b.w32(bar0::kIntrEnable, hmmsim::hwref::kIntrCopy);  // copy MSIs are opt-in
    b.copy(kHostMem - 16, 0x1000, 64, CeDir::HostToDevice, 5);  // runs off the host's memory
    b.wait_msis(1);
    seq = b.r32(bar0::kCeDoneSeq);
  };
  sc_core::sc_start();
  EXPECT_EQ(seq, 5u);
  EXPECT_EQ(b.gpu.copy_engine().s_errors, 1u);
  ASSERT_EQ(b.host.msis.size(), 1u);
  EXPECT_EQ(b.host.msis[0].vector, kMsiVectorCopy);
  EXPECT_EQ(b.vram(0x1000, 64), std::vector<uint8_t>(64, 0));
}

namespace {

struct Recorder : IAccessObserver {
  struct Rec {
    unsigned sm, warp;
    bool write;
    uint64_t va;
    std::vector<uint8_t> data;
  };
  std::vector<Rec> recs;
  unsigned fatal = 0;
  void on_load(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, uint32_t len) override {
    recs.push_back({sm, warp, false, va, std::vector<uint8_t>(data, data + len)});
  }
  void on_store(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, const uint8_t*, uint32_t len) override {
    recs.push_back({sm, warp, true, va, std::vector<uint8_t>(data, data + len)});
  }
  void on_fatal(unsigned, unsigned, uint64_t, uint64_t) override { ++fatal; }
};

std::vector<uint8_t> words(uint32_t value, uint32_t stride, uint32_t bytes) {
  std::vector<uint8_t> v(bytes);
  for (uint32_t k = 0; k < bytes / 4; ++k) {
    const uint32_t w = value + k * stride;
    std::memcpy(&v[k * 4], &w, 4);
  }
  return v;
}

}  // namespace

TEST(GpuSm, WarpsOnPreMappedPagesCompleteAndLoadsSeeStores) {
  Bench b;
  constexpr uint64_t kVaA = 0x100000000000ull, kVaB = 0x100000200000ull;  // different PTs
  constexpr uint64_t kPaA = 0x400000, kHostPaB = 0x300000;
  PtBuilder ptb(b.gpu.vram().core(), 0x100000);
  ptb.map(kVaA, kPaA, pt::Aperture::Vram, true);
  ptb.map(kVaB, kHostPaB, pt::Aperture::SysCoherent, true);
  const auto host_data = pattern(64, 77);
  std::copy(host_data.begin(), host_data.end(), b.host.mem.begin() + kHostPaB + 0x40);

  // Each store is followed by a load of what it wrote, which must wait for it.
  ListKernel k({{{st(kVaA + 0x100, 128, 1000, 3), ld(kVaA + 0x100, 128)},
                 {st(kVaA + 0x800, 64, 7, 0x10000), ld(kVaA + 0x800, 64)},
                 {ld(kVaB + 0x40, 64)}}});
  Recorder rec;
  b.gpu.sm(0).set_observer(&rec);
  bool done = false;
  uint64_t t_launch = 0, t_done = 0;
  b.drv.body = [&] {
    b.w64(bar0::kPdbLo, ptb.root());
    t_launch = now_ps();
    b.gpu.launch(k);
    sc_core::wait(b.gpu.kernel_done());
    t_done = now_ps();
    done = b.gpu.finished();
  };
  sc_core::sc_start();
  ASSERT_TRUE(done);
  EXPECT_GT(t_done, t_launch);
  EXPECT_EQ(rec.fatal, 0u);
  ASSERT_EQ(rec.recs.size(), 5u);
  const Recorder::Rec *s0 = nullptr, *l0 = nullptr, *s1 = nullptr, *l1 = nullptr, *l2 = nullptr;
  for (auto& r : rec.recs) {
    EXPECT_EQ(r.sm, 0u);
    if (r.warp == 0) (r.write ? s0 : l0) = &r;
    if (r.warp == 1) (r.write ? s1 : l1) = &r;
    if (r.warp == 2) l2 = &r;
  }
  ASSERT_TRUE(s0 && l0 && s1 && l1 && l2);
  EXPECT_EQ(s0->data, words(1000, 3, 128));
  EXPECT_EQ(l0->data, words(1000, 3, 128));
  EXPECT_EQ(s1->data, words(7, 0x10000, 64));
  EXPECT_EQ(l1->data, words(7, 0x10000, 64));
  EXPECT_EQ(l2->data, host_data);
  EXPECT_LT(s0, l0);  // recorded in completion order
  EXPECT_LT(s1, l1);
  // The stores really are in VRAM at the mapped frame.
  EXPECT_EQ(b.vram(kPaA + 0x100, 128), words(1000, 3, 128));
  EXPECT_EQ(b.vram(kPaA + 0x800, 64), words(7, 0x10000, 64));

  const auto& sm = b.gpu.sm(0).c;
  EXPECT_EQ(sm.stores, 2u);
  EXPECT_EQ(sm.loads, 3u);
  EXPECT_EQ(sm.instructions, 5u);
  EXPECT_EQ(sm.bytes, 128u * 2 + 64u * 3);
  EXPECT_EQ(sm.lanes, 32u * 2 + 16u * 3);
  EXPECT_EQ(sm.lines, 5u);       // every access lies within one 128-byte line
  EXPECT_EQ(sm.sectors, 4u * 2 + 2u * 3);
  EXPECT_EQ(sm.pages, 5u);
  EXPECT_EQ(sm.ctas, 1u);
  EXPECT_EQ(sm.faults, 0u);
  EXPECT_EQ(sm.access_errors, 0u);
  EXPECT_EQ(sm.remote_lines, 1u);
  EXPECT_EQ(sm.tlb_misses, 2u);  // one walk per page
  EXPECT_EQ(sm.tlb_hits, 3u);
  EXPECT_EQ(b.gpu.gmmu().path().walker().s_walks, 2u);
  EXPECT_EQ(b.gpu.gmmu().s_faults, 0u);
  EXPECT_EQ(ps(b.gpu.sm(0).finish_time()), t_done);
  ASSERT_EQ(b.host.reads.size(), 1u);  // the remote load went upstream
  EXPECT_EQ(b.host.reads[0], std::make_pair(kHostPaB + 0x40, 64u));
}

TEST(GpuSm, KernelDoneNotBeforeTheLastAccessCompletes) {
  Bench b;
  b.host.read_ns = 1000;  // slow system memory
  constexpr uint64_t kVa = 0x100000000000ull, kHostPa = 0x300000;
  PtBuilder ptb(b.gpu.vram().core(), 0x100000);
  ptb.map(kVa, kHostPa, pt::Aperture::SysCoherent, true);
  ListKernel k({{{ld(kVa, 64)}}});
  Recorder rec;
  b.gpu.sm(0).set_observer(&rec);
  uint64_t t_launch = 0, t_done = 0;
  b.drv.body = [&] {
    b.w64(bar0::kPdbLo, ptb.root());
    t_launch = now_ps();
    b.gpu.launch(k);
    sc_core::wait(b.gpu.kernel_done());
    t_done = now_ps();
  };
  sc_core::sc_start();
  ASSERT_EQ(rec.recs.size(), 1u);
  // The one load waits 1000 ns for system memory: the kernel cannot end sooner.
  EXPECT_GE(t_done, t_launch + 1000000);
  EXPECT_GE(ps(b.gpu.sm(0).finish_time()), t_launch + 1000000);
}

TEST(GpuBar0, IntrStatusLatchesCopyInterruptUntilWrittenOne) {
  Bench b;
  uint32_t before = 99, after_copy = 0, after_clear = 99;
  b.drv.body = [&] {
    b.w64(bar0::kMsiAddrLo, kMsi);
    b.w32(bar0::kIntrEnable, hmmsim::hwref::kIntrFault | hmmsim::hwref::kIntrCopy);
    before = b.r32(bar0::kIntrStatus);
    b.copy(0, 0x1000, 64, CeDir::FillZero, 1);
    b.wait_msis(1);
    after_copy = b.r32(bar0::kIntrStatus);
    b.w32(bar0::kIntrStatus, hmmsim::hwref::kIntrCopy);
    after_clear = b.r32(bar0::kIntrStatus);
  };
  sc_core::sc_start();
  EXPECT_EQ(before, 0u);
  EXPECT_EQ(after_copy & hmmsim::hwref::kIntrCopy, hmmsim::hwref::kIntrCopy);
  EXPECT_EQ(after_clear & hmmsim::hwref::kIntrCopy, 0u);
}
