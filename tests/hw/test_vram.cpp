// VRAM: the channel/bank timing model of VramCore and the Vram TLM target.
// Expected times follow from VramSpec alone:
//   first access to a bank        : t_rcd + t_cl + len / bandwidth
//   same open row                  : t_cl + len / bandwidth
//   other row of an open bank      : t_rp + t_rcd + t_cl + len / bandwidth
//   address map: 256 B chunks rotate over the channels; within a channel,
//   row_bytes of consecutive chunks form a row, rows rotate over the banks.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "hw/dram/dram_presets.h"
#include "hw/vram.h"
#include "tests/hw/sc_test_support.h"

using hmmsim::hw::Vram;
using hmmsim::hw::VramCore;
using hmmsim::hw::VramSpec;
using namespace hmmsim::sctest;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

// Distinct latencies, so swapping any two of them changes every result.
VramSpec odd_spec() {
  VramSpec s;
  s.t_rcd_ns = 11;
  s.t_cl_ns = 13;
  s.t_rp_ns = 17;
  s.channel_gbps = 16;  // bytes per ns
  return s;             // 8 channels x 16 banks, 2 KiB rows, 256 B interleave
}

// Addresses under the default map (8 channels, 256 B interleave, 2 KiB rows, 16 banks):
constexpr uint64_t kCh0Bank0Row0 = 0;
constexpr uint64_t kCh0Bank0Row0b = 2048;      // chunk 8: channel 0 again, same row
constexpr uint64_t kCh0Bank0Row0Last = 14336;  // chunk 56: last chunk of channel 0's first row
constexpr uint64_t kCh0Bank1Row0 = 16384;      // chunk 64: channel 0's second row -> bank 1
constexpr uint64_t kCh0Bank0Row1 = 262144;     // 16 rows later: bank 0 again, row 1

}  // namespace

TEST(VramCore, FirstAccessToABankPaysActivateCasAndTransfer) {
  const VramSpec s = odd_spec();
  VramCore v(s);
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank0Row0, 64, 100), 100 + s.t_rcd_ns + s.t_cl_ns + 64 / s.channel_gbps);
  // Another, never used bank of the same channel is also a first access.
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank1Row0, 128, 500), 500 + s.t_rcd_ns + s.t_cl_ns + 128 / s.channel_gbps);
  EXPECT_EQ(v.s_row_misses, 2u);
  EXPECT_EQ(v.s_row_hits, 0u);
  EXPECT_EQ(v.s_row_conflicts, 0u);
}

TEST(VramCore, SameRowSecondAccessPaysCasAndTransferOnly) {
  const VramSpec s = odd_spec();
  VramCore v(s);
  v.access(kCh0Bank0Row0, 64, 0);
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank0Row0b, 64, 200), 200 + s.t_cl_ns + 64 / s.channel_gbps);
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank0Row0Last, 32, 300), 300 + s.t_cl_ns + 32 / s.channel_gbps);
  EXPECT_DOUBLE_EQ(v.access(64, 256 - 64, 400), 400 + s.t_cl_ns + 192 / s.channel_gbps);
  EXPECT_EQ(v.s_row_misses, 1u);
  EXPECT_EQ(v.s_row_hits, 3u);
  EXPECT_EQ(v.s_row_conflicts, 0u);
}

TEST(VramCore, OtherRowOfAnOpenBankPaysPrechargeActivateCas) {
  const VramSpec s = odd_spec();
  VramCore v(s);
  v.access(kCh0Bank0Row0, 64, 0);
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank0Row1, 64, 200),
                   200 + s.t_rp_ns + s.t_rcd_ns + s.t_cl_ns + 64 / s.channel_gbps);
  // Row 1 is open now: going back to row 0 conflicts again, staying is a hit.
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank0Row0, 32, 400),
                   400 + s.t_rp_ns + s.t_rcd_ns + s.t_cl_ns + 32 / s.channel_gbps);
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank0Row0b, 32, 600), 600 + s.t_cl_ns + 32 / s.channel_gbps);
  // Bank 1 was never opened: a plain miss, untouched by bank 0's rows.
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank1Row0, 32, 800), 800 + s.t_rcd_ns + s.t_cl_ns + 32 / s.channel_gbps);
  EXPECT_EQ(v.s_row_conflicts, 2u);
  EXPECT_EQ(v.s_row_hits, 1u);
  EXPECT_EQ(v.s_row_misses, 2u);
}

TEST(VramCore, ConsecutiveChunksInterleaveOverChannels) {
  const VramSpec s = odd_spec();
  VramCore v(s);
  const double one = s.t_rcd_ns + s.t_cl_ns + 256 / s.channel_gbps;
  // Eight consecutive 256 B chunks arriving together: one per channel, no queueing.
  for (uint64_t k = 0; k < s.channels; ++k)
    EXPECT_DOUBLE_EQ(v.access(k * s.interleave_bytes, 256, 0), one) << "chunk " << k;
  EXPECT_EQ(v.s_row_misses, uint64_t(s.channels));
  // A fresh bank of channel 0 (chunk 64) can activate at once, but its data
  // must wait for channel 0's bus, busy until `one`.
  EXPECT_DOUBLE_EQ(v.access(kCh0Bank1Row0, 256, 0), one + 256 / s.channel_gbps);
  // Chunk 8 wraps to channel 0 and lands in the row chunk 0 opened.
  EXPECT_DOUBLE_EQ(v.access(8 * s.interleave_bytes, 64, 1000), 1000 + s.t_cl_ns + 64 / s.channel_gbps);
  EXPECT_EQ(v.s_row_hits, 1u);
}

TEST(VramCore, InterleaveFollowsTheSpecGeometry) {
  VramSpec s = odd_spec();
  s.channels = 4;
  s.interleave_bytes = 512;
  s.row_bytes = 1024;
  s.banks_per_channel = 2;
  VramCore v(s);
  const double miss = s.t_rcd_ns + s.t_cl_ns + 512 / s.channel_gbps;
  for (uint64_t k = 0; k < 4; ++k) EXPECT_DOUBLE_EQ(v.access(k * 512, 512, 0), miss) << "chunk " << k;
  // chunk 4 -> channel 0, second half of row 0 of bank 0: a hit.
  EXPECT_DOUBLE_EQ(v.access(4 * 512, 16, 100), 100 + s.t_cl_ns + 1.0);
  // chunk 8 -> channel 0, next row -> bank 1: a miss; chunk 16 -> bank 0 row 1: a conflict.
  EXPECT_DOUBLE_EQ(v.access(8 * 512, 16, 200), 200 + s.t_rcd_ns + s.t_cl_ns + 1.0);
  EXPECT_DOUBLE_EQ(v.access(16 * 512, 16, 300), 300 + s.t_rp_ns + s.t_rcd_ns + s.t_cl_ns + 1.0);
  EXPECT_EQ(v.s_row_misses, 5u);
  EXPECT_EQ(v.s_row_hits, 1u);
  EXPECT_EQ(v.s_row_conflicts, 1u);
}

TEST(VramCore, DataRoundTripAcrossPagesAndUnwrittenReadsZero) {
  VramCore v(VramSpec{});
  std::vector<uint8_t> in(5000), out(5000, 0xEE);
  std::iota(in.begin(), in.end(), uint8_t(1));
  v.write(4096 - 100, in.data(), in.size());  // spans three 4 KiB pages
  v.read(4096 - 100, out.data(), out.size());
  EXPECT_EQ(in, out);
  std::vector<uint8_t> z(300, 0xEE);
  v.read(1 << 20, z.data(), z.size());
  EXPECT_EQ(z, std::vector<uint8_t>(300, 0));
  // Bytes around the written range stay zero.
  uint8_t before = 0xEE, after = 0xEE;
  v.read(4096 - 101, &before, 1);
  v.read(4096 - 100 + 5000, &after, 1);
  EXPECT_EQ(before, 0);
  EXPECT_EQ(after, 0);
  // Data moves never count as timed accesses.
  EXPECT_EQ(v.s_row_misses + v.s_row_hits + v.s_row_conflicts, 0u);
}

TEST(VramCore, InRangeChecksCapacityAndWrap) {
  VramSpec s;
  s.capacity_bytes = 1 << 20;
  VramCore v(s);
  EXPECT_TRUE(v.in_range(0, 1 << 20));
  EXPECT_TRUE(v.in_range((1 << 20) - 8, 8));
  EXPECT_FALSE(v.in_range((1 << 20) - 4, 8));
  EXPECT_FALSE(v.in_range(1 << 20, 1));
  EXPECT_FALSE(v.in_range(~0ull - 3, 8));
}

TEST(VramCore, ImplChoosesTheTimingModel) {
  VramSpec s;
  s.impl = "fixed";
  s.latency_ns = 40;
  VramCore v(s);
  EXPECT_DOUBLE_EQ(v.access(0, 64, 10), 10 + 40 + 64 / s.channel_gbps);
  EXPECT_DOUBLE_EQ(v.access(0, 64, 10), 10 + 40 + 2 * 64 / s.channel_gbps);  // same channel: queued
  EXPECT_EQ(v.s_row_hits + v.s_row_misses + v.s_row_conflicts, 0u);          // no rows in this model
  EXPECT_EQ(v.timing().counters().reads, 2u);
}

TEST(VramCore, UnknownImplOrImpossibleSpecIsRefused) {
  VramSpec s;
  s.impl = "ideal";
  EXPECT_THROW(VramCore{s}, std::invalid_argument);
  VramSpec t;
  t.row_bytes = 1000;  // not a multiple of the 256 B interleave
  EXPECT_THROW(VramCore{t}, std::invalid_argument);
}

TEST(VramCore, PresetTimingsReachTheCore) {
  VramSpec s;
  static_cast<hmmsim::hw::DramSpec&>(s) = hmmsim::hw::dram_preset("hbm2")->spec;
  VramCore v(s);
  const double burst = s.burst_bytes / s.channel_gbps;
  // 8 B is a partial burst: it still takes a whole one on the bus.
  EXPECT_DOUBLE_EQ(v.access(0, 8, 0), s.t_rcd_ns + s.t_cl_ns + burst);
  // Bursts rotate over the 4 bank groups: burst 4 (byte 128) is bank 0 again, same row.
  EXPECT_DOUBLE_EQ(v.access(128, 8, 500, true), 500 + s.t_cl_ns + burst);
  // Burst 2 (byte 64) is bank group 2: another bank, still closed.
  EXPECT_DOUBLE_EQ(v.access(64, 8, 1000), 1000 + s.t_rcd_ns + s.t_cl_ns + burst);
  EXPECT_EQ(v.s_row_misses, 2u);
  EXPECT_EQ(v.s_row_hits, 1u);
  EXPECT_EQ(v.timing().counters().writes, 1u);
}

// ---- Vram TLM target (one sc_start per test) ----

TEST(VramTlm, TimedWriteThenReadRoundTripsData) {
  const VramSpec s;  // defaults: t_rcd = t_cl = 14 ns, 32 B/ns
  Vram vram("vram", s);
  Initiator cpu("cpu");
  cpu.socket.bind(vram.socket);
  std::vector<uint8_t> in(64), out(64, 0);
  std::iota(in.begin(), in.end(), uint8_t(0x40));
  sc_time dw, dr;
  tlm::tlm_response_status rw = tlm::TLM_INCOMPLETE_RESPONSE, rr = rw;
  uint64_t read_issued = 0;
  cpu.body = [&] {
    dw = sc_core::SC_ZERO_TIME;
    rw = cpu.write(0x1000, in.data(), 64, dw);
    sc_core::wait(dw);
    read_issued = now_ps();
    dr = sc_core::SC_ZERO_TIME;
    rr = cpu.read(0x1000, out.data(), 64, dr);
  };
  sc_core::sc_start();
  EXPECT_EQ(rw, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(rr, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(in, out);
  EXPECT_EQ(ps(dw), ps_of_ns(s.t_rcd_ns + s.t_cl_ns + 64 / s.channel_gbps));  // 30 ns
  EXPECT_EQ(read_issued, ps(dw));
  EXPECT_EQ(ps(dr), ps_of_ns(s.t_cl_ns + 64 / s.channel_gbps));  // open row: 16 ns
  auto& c = vram.core();
  EXPECT_EQ(c.s_writes, 1u);
  EXPECT_EQ(c.s_reads, 1u);
  EXPECT_EQ(c.s_bytes_written, 64u);
  EXPECT_EQ(c.s_bytes_read, 64u);
  EXPECT_EQ(c.s_row_misses, 1u);
  EXPECT_EQ(c.s_row_hits, 1u);
  EXPECT_EQ(vram.s_decode_errors, 0u);
}

TEST(VramTlm, LongTransferSpreadsOverTheChannels) {
  const VramSpec s;
  Vram vram("vram", s);
  Initiator cpu("cpu");
  cpu.socket.bind(vram.socket);
  std::vector<uint8_t> buf(2048);
  sc_time d;
  cpu.body = [&] {
    d = sc_time(5, SC_NS);  // the annotated offset is where the access starts
    cpu.read(0x10000, buf.data(), 2048, d);
  };
  sc_core::sc_start();
  // 2 KiB = 8 chunks, one per channel, all in parallel: one chunk's time, not eight.
  EXPECT_EQ(ps(d), ps_of_ns(5 + s.t_rcd_ns + s.t_cl_ns + 256 / s.channel_gbps));
  EXPECT_EQ(vram.core().s_row_misses, 8u);
  EXPECT_EQ(vram.core().s_reads, 1u);
  EXPECT_EQ(vram.core().s_bytes_read, 2048u);
}

TEST(VramTlm, OutOfRangeAccessIsAddressErrorAndCounted) {
  VramSpec s;
  s.capacity_bytes = 1 << 20;
  Vram vram("vram", s);
  Initiator cpu("cpu");
  cpu.socket.bind(vram.socket);
  std::vector<tlm::tlm_response_status> r;
  std::vector<uint64_t> delays;
  std::vector<uint8_t> buf(16, 0x5A);
  cpu.body = [&] {
    auto go = [&](tlm::tlm_command c, uint64_t a, uint32_t n) {
      sc_time d(3, SC_NS);
      r.push_back(cpu.transport(c, a, buf.data(), n, d));
      delays.push_back(ps(d));
    };
    go(tlm::TLM_READ_COMMAND, (1 << 20) - 4, 8);   // straddles the end
    go(tlm::TLM_WRITE_COMMAND, 1 << 20, 1);        // just past the end
    go(tlm::TLM_WRITE_COMMAND, ~0ull - 3, 8);      // wraps around
    go(tlm::TLM_READ_COMMAND, (1 << 20) - 16, 16);  // last 16 bytes: fine
  };
  sc_core::sc_start();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r[1], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r[2], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(r[3], tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(vram.s_decode_errors, 3u);
  // Failed accesses move no data and occupy no bank.
  EXPECT_EQ(vram.core().s_reads, 1u);
  EXPECT_EQ(vram.core().s_writes, 0u);
  EXPECT_EQ(vram.core().s_row_misses, 1u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(delays[i], ps(sc_time(3, SC_NS))) << i;
  EXPECT_EQ(buf, std::vector<uint8_t>(16, 0));  // the good read returned VRAM's zeros
}

TEST(VramTlm, TransportDbgMovesDataWithoutTiming) {
  const VramSpec s;
  Vram vram("vram", s);
  Initiator cpu("cpu");
  cpu.socket.bind(vram.socket);
  std::vector<uint8_t> in(100), out(100, 0), timed(100, 0);
  std::iota(in.begin(), in.end(), uint8_t(7));
  unsigned nw = 0, nr = 0, nbad = 0;
  uint64_t t_after_dbg = 1;
  sc_time d;
  cpu.body = [&] {
    nw = cpu.debug(tlm::TLM_WRITE_COMMAND, 0x2000, in.data(), 100);
    nr = cpu.debug(tlm::TLM_READ_COMMAND, 0x2000, out.data(), 100);
    nbad = cpu.debug(tlm::TLM_READ_COMMAND, s.capacity_bytes - 50, out.data(), 100);
    t_after_dbg = now_ps();
    d = sc_core::SC_ZERO_TIME;
    cpu.read(0x2000, timed.data(), 100, d);
  };
  sc_core::sc_start();
  EXPECT_EQ(nw, 100u);
  EXPECT_EQ(nr, 100u);
  EXPECT_EQ(nbad, 0u);
  EXPECT_EQ(in, out);
  EXPECT_EQ(in, timed);
  EXPECT_EQ(t_after_dbg, 0u);
  // The debug accesses opened no row: the first timed access is still a bank miss.
  EXPECT_EQ(ps(d), ps_of_ns(s.t_rcd_ns + s.t_cl_ns + 100 / s.channel_gbps));
  EXPECT_EQ(vram.core().s_row_misses, 1u);
  EXPECT_EQ(vram.core().s_row_hits, 0u);
  EXPECT_EQ(vram.core().s_reads, 1u);
  EXPECT_EQ(vram.core().s_writes, 0u);
  EXPECT_EQ(vram.core().s_bytes_written, 0u);
  EXPECT_EQ(vram.s_decode_errors, 0u);
}
