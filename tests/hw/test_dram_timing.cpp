// The DRAM timing family (hw/dram/): bank_row's row hit/miss/conflict
// latencies and each constraint it adds, the fixed model, the address
// mappings, and every preset streaming at (close to) its datasheet peak.
// Plain C++: no SystemC kernel is started.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <queue>
#include <vector>

#include "hw/dram/dram_address_map.h"
#include "hw/dram/dram_presets.h"
#include "hw/dram/dram_timing.h"

using namespace hmmsim::hw;

namespace {

// One channel, distinct timings (so swapping any two changes a result),
// 32 B bursts at 16 B/ns: one burst is 2 ns on the bus.
DramSpec timed_spec() {
  DramSpec s;
  s.channels = 1;
  s.bank_groups = 4;
  s.banks_per_channel = 16;
  s.row_bytes = 1024;
  s.interleave_bytes = 256;
  s.channel_gbps = 16;
  s.burst_bytes = 32;
  s.t_rcd_ns = 11, s.t_cl_ns = 13, s.t_rp_ns = 17, s.t_ras_ns = 40;
  s.t_ccd_s_ns = 2, s.t_ccd_l_ns = 4;
  return s;
}
constexpr double kBurst = 2;  // 32 B / 16 B/ns
// Under ro_ba_co_ch with one channel: 1 KiB rows, so bank = (pa / 1 KiB) % 16.
constexpr uint64_t kBank0Row0 = 0, kBank1Row0 = 1024, kBank0Row1 = 16 * 1024;

std::unique_ptr<IDramTiming> make(const std::string& impl, const DramSpec& s) {
  return dram_timing_registry().make(impl, s);
}

}  // namespace

TEST(BankRow, MissHitConflictLatencies) {
  const DramSpec s = timed_spec();
  auto d = make("bank_row", s);
  EXPECT_DOUBLE_EQ(d->access(kBank0Row0, 32, false, 100), 100 + s.t_rcd_ns + s.t_cl_ns + kBurst);
  EXPECT_DOUBLE_EQ(d->access(kBank0Row0 + 64, 32, false, 500), 500 + s.t_cl_ns + kBurst);
  EXPECT_DOUBLE_EQ(d->access(kBank0Row1, 32, false, 1000), 1000 + s.t_rp_ns + s.t_rcd_ns + s.t_cl_ns + kBurst);
  // A partial burst still occupies a whole burst on the bus.
  EXPECT_DOUBLE_EQ(d->access(kBank0Row1 + 32, 8, true, 2000), 2000 + s.t_cl_ns + kBurst);
  const DramCounters& c = d->counters();
  EXPECT_EQ(c.row_misses, 1u);
  EXPECT_EQ(c.row_hits, 2u);
  EXPECT_EQ(c.row_conflicts, 1u);
  EXPECT_EQ(c.reads, 3u);
  EXPECT_EQ(c.writes, 1u);
  EXPECT_EQ(c.bytes_read, 96u);
  EXPECT_EQ(c.bytes_written, 8u);
}

TEST(BankRow, PrechargeWaitsForRasAfterTheActivate) {
  const DramSpec s = timed_spec();
  auto d = make("bank_row", s);
  d->access(kBank0Row0, 32, false, 0);  // ACT at 0
  // Another row at 5: PRE no earlier than tRAS = 40.
  EXPECT_DOUBLE_EQ(d->access(kBank0Row1, 32, false, 5), s.t_ras_ns + s.t_rp_ns + s.t_rcd_ns + s.t_cl_ns + kBurst);
  // Without tRAS the precharge starts once the bank's first burst is out.
  DramSpec no_ras = s;
  no_ras.t_ras_ns = 0;
  auto e = make("bank_row", no_ras);
  e->access(kBank0Row0, 32, false, 0);
  EXPECT_DOUBLE_EQ(e->access(kBank0Row1, 32, false, 5), s.t_rcd_ns + kBurst + s.t_rp_ns + s.t_rcd_ns + s.t_cl_ns + kBurst);
}

TEST(BankRow, ColumnCommandsKeepCcdLongInAGroupAndShortAcross) {
  const DramSpec s = timed_spec();
  auto d = make("bank_row", s);
  const double first = s.t_rcd_ns + s.t_cl_ns + kBurst;
  EXPECT_DOUBLE_EQ(d->access(0, 32, false, 0), first);
  // Next burst of the same bank (same group): tCCD_L = 4 after the first CAS.
  EXPECT_DOUBLE_EQ(d->access(32, 32, false, 0), first + s.t_ccd_l_ns);
  // Bank 1 is in group 1: only tCCD_S = one burst after the last CAS.
  EXPECT_DOUBLE_EQ(d->access(kBank1Row0, 32, false, 0), first + s.t_ccd_l_ns + kBurst);
  // A 64 B access to bank 0 is two bursts, tCCD_L apart (bank 1's CAS sits in between).
  EXPECT_DOUBLE_EQ(d->access(64, 64, false, 0), first + s.t_ccd_l_ns + 2 * s.t_ccd_l_ns);
}

TEST(BankRow, ActivatesKeepRrdAndFaw) {
  DramSpec s = timed_spec();
  s.t_ccd_s_ns = s.t_ccd_l_ns = 0;
  s.t_rrd_ns = 3;
  s.t_faw_ns = 20;
  auto d = make("bank_row", s);
  // Five fresh banks at once: ACTs at 0, 3, 6, 9, then the fifth waits for tFAW (20).
  const double acts[] = {0, 3, 6, 9, 20};
  for (int i = 0; i < 5; ++i)
    EXPECT_DOUBLE_EQ(d->access(uint64_t(i) * 1024, 32, false, 0), acts[i] + s.t_rcd_ns + s.t_cl_ns + kBurst) << i;
  EXPECT_EQ(d->counters().row_misses, 5u);
}

TEST(BankRow, RefreshBlocksTheChannelAndClosesRows) {
  DramSpec s = timed_spec();
  s.t_refi_ns = 1000;
  s.t_rfc_ns = 100;
  auto d = make("bank_row", s);
  d->access(kBank0Row0, 32, false, 0);
  // Same row, but refresh at 1000..1100 precharged it: a miss after the refresh.
  EXPECT_DOUBLE_EQ(d->access(kBank0Row0 + 32, 32, false, 1050), 1100 + s.t_rcd_ns + s.t_cl_ns + kBurst);
  EXPECT_EQ(d->counters().row_misses, 2u);
  EXPECT_EQ(d->counters().row_hits, 0u);
  // After the window the row stays open: a hit.
  EXPECT_DOUBLE_EQ(d->access(kBank0Row0, 32, false, 1500), 1500 + s.t_cl_ns + kBurst);
  // Two channels refresh staggered by tREFI / 2: channel 1's first window is
  // 1500..1600, channel 0's 1000..1100.
  s.channels = 2;
  auto two = make("bank_row", s);
  EXPECT_DOUBLE_EQ(two->access(256, 32, false, 1550), 1600 + s.t_rcd_ns + s.t_cl_ns + kBurst);
  EXPECT_DOUBLE_EQ(two->access(0, 32, false, 1550), 1550 + s.t_rcd_ns + s.t_cl_ns + kBurst);
  // Nothing is refreshed before the first window.
  auto fresh = make("bank_row", s);
  EXPECT_DOUBLE_EQ(fresh->access(0, 32, false, 999), 999 + s.t_rcd_ns + s.t_cl_ns + kBurst);
}

TEST(BankRow, ChannelBusSerialisesDataInCallOrder) {
  const DramSpec s = timed_spec();
  auto d = make("bank_row", s);
  // 16 fresh banks, one burst each, all at 0: the bus carries one burst per
  // 2 ns after the first data.
  double last = 0;
  for (uint64_t b = 0; b < 16; ++b) last = d->access(b * 1024, 32, false, 0);
  EXPECT_DOUBLE_EQ(last, s.t_rcd_ns + s.t_cl_ns + 16 * kBurst);
}

TEST(FixedDram, LatencyThenBandwidthPerChannel) {
  DramSpec s;
  s.channels = 2;
  s.interleave_bytes = 256;
  s.channel_gbps = 10;
  s.latency_ns = 50;
  auto d = make("fixed", s);
  EXPECT_DOUBLE_EQ(d->access(0, 100, false, 10), 10 + 50 + 10);
  EXPECT_DOUBLE_EQ(d->access(0, 100, false, 10), 10 + 50 + 10 + 10);  // queues behind on channel 0
  EXPECT_DOUBLE_EQ(d->access(256, 100, true, 10), 10 + 50 + 10);       // channel 1 is free
  // 512 B from 512: 256 B on each channel, behind what each already carries.
  EXPECT_DOUBLE_EQ(d->access(512, 512, false, 10), 80 + 25.6);
  EXPECT_EQ(d->counters().reads, 4u);
  EXPECT_EQ(d->counters().writes, 1u);
  EXPECT_EQ(d->counters().bytes_read, 712u);
  EXPECT_EQ(d->counters().row_hits + d->counters().row_misses + d->counters().row_conflicts, 0u);
}

// ---- address mappings (docs/vram.md) ----

namespace {
DramSpec map_spec(DramMapping m) {
  DramSpec s;  // 8 channels, 16 banks, 2 KiB rows, 256 B chunks: 8 chunks per row
  s.bank_groups = 4;
  s.mapping = m;
  s.burst_bytes = 32;
  return s;
}
void expect_at(const DramAddressMap& m, uint64_t pa, uint32_t ch, uint32_t bank, int64_t row) {
  const DramLocation l = m.decode(pa);
  EXPECT_EQ(l.channel, ch) << "pa " << pa;
  EXPECT_EQ(l.bank, bank) << "pa " << pa;
  EXPECT_EQ(l.row, row) << "pa " << pa;
}
}  // namespace

TEST(DramMapping, RoBaCoChFillsARowPerChannelThenTheNextBank) {
  const DramAddressMap m(map_spec(DramMapping::RoBaCoCh));
  for (uint32_t k = 0; k < 8; ++k) expect_at(m, k * 256, k, 0, 0);
  expect_at(m, 8 * 256, 0, 0, 0);          // wraps to channel 0, same row
  expect_at(m, 8 * 8 * 256, 0, 1, 0);      // channel 0's row is full: bank 1
  expect_at(m, 16 * 64 * 256, 0, 0, 1);    // all 16 banks used: row 1 of bank 0
  expect_at(m, 3 * 64 * 256 + 5 * 256 + 17, 5, 3, 0);
}

TEST(DramMapping, RoCoBaChRotatesAChannelsChunksOverTheBanks) {
  const DramAddressMap m(map_spec(DramMapping::RoCoBaCh));
  for (uint32_t k = 0; k < 8; ++k) expect_at(m, k * 256, k, 0, 0);
  for (uint32_t b = 0; b < 16; ++b) expect_at(m, b * 8 * 256, 0, b, 0);
  expect_at(m, 16 * 8 * 256, 0, 0, 0);      // next column of bank 0's row 0
  expect_at(m, 8 * 16 * 8 * 256, 0, 0, 1);  // 8 columns later: row 1
}

TEST(DramMapping, RoBaChCoKeepsARowInOneChannel) {
  const DramAddressMap m(map_spec(DramMapping::RoBaChCo));
  for (uint32_t k = 0; k < 8; ++k) expect_at(m, k * 256, 0, 0, 0);
  expect_at(m, 2048, 1, 0, 0);
  expect_at(m, 8 * 2048, 0, 1, 0);
  expect_at(m, 16 * 8 * 2048, 0, 0, 1);
}

// decode takes shifts for power-of-two geometry and divides otherwise: both
// give what the mapping's definition (here by plain division) gives.
TEST(DramMapping, AnyGeometryDecodesAsTheDefinitionSays) {
  for (const bool pow2 : {true, false})
    for (const DramMapping map : {DramMapping::RoBaCoCh, DramMapping::RoCoBaCh, DramMapping::RoBaChCo,
                                  DramMapping::RoBaCoChBg}) {
      DramSpec s;
      s.mapping = map;
      s.channels = pow2 ? 4 : 3;
      s.bank_groups = pow2 ? 4 : 3;
      s.banks_per_channel = pow2 ? 16 : 12;
      s.row_bytes = pow2 ? 2048 : 1536;
      s.interleave_bytes = pow2 ? 256 : 192;
      s.burst_bytes = pow2 ? 64 : 48;
      const DramAddressMap m(s);
      const uint64_t ch = s.channels, banks = s.banks_per_channel, groups = s.bank_groups, row = s.row_bytes,
                     chunk_b = s.interleave_bytes, burst = s.burst_bytes, per_row = row / chunk_b;
      for (uint64_t pa = 0; pa < (1u << 22); pa += 4 + pa / 4096 * 8) {
        const uint64_t chunk = pa / chunk_b, off = pa % chunk_b;
        DramLocation want{};
        if (map == DramMapping::RoBaCoCh) {
          const uint64_t rg = (chunk / ch * chunk_b + off) / row;
          want = {uint32_t(chunk % ch), uint32_t(rg % banks), int64_t(rg / banks)};
        } else if (map == DramMapping::RoCoBaCh) {
          const uint64_t k = chunk / ch;
          want = {uint32_t(chunk % ch), uint32_t(k % banks), int64_t(k / banks / per_row)};
        } else if (map == DramMapping::RoBaChCo) {
          const uint64_t r = chunk / per_row;
          want = {uint32_t(r % ch), uint32_t(r / ch % banks), int64_t(r / ch / banks)};
        } else {
          const uint64_t set = (chunk / ch * chunk_b + off) / (row * groups), sets = banks / groups;
          want = {uint32_t(chunk % ch), uint32_t(set % sets * groups + off / burst % groups), int64_t(set / sets)};
        }
        const DramLocation got = m.decode(pa);
        ASSERT_EQ(got.channel, want.channel) << pa;
        ASSERT_EQ(got.bank, want.bank) << pa;
        ASSERT_EQ(got.row, want.row) << pa;
      }
    }
}

TEST(DramMapping, RoBaCoChBgSpreadsAChunksBurstsOverTheBankGroups) {
  const DramAddressMap m(map_spec(DramMapping::RoBaCoChBg));
  for (uint32_t b = 0; b < 8; ++b) expect_at(m, b * 32, 0, b % 4, 0);  // 8 bursts: groups 0,1,2,3,0,...
  expect_at(m, 256, 1, 0, 0);                                          // next chunk: next channel
  // Four banks share the row: 4 x 2 KiB per channel before bank set 1 (banks 4..7).
  expect_at(m, 4 * 8 * 8 * 256, 0, 4, 0);
  expect_at(m, 4 * 4 * 8 * 8 * 256, 0, 0, 1);
  for (uint32_t b = 0; b < 16; ++b) EXPECT_EQ(m.group_of(b), b % 4);
}

// ---- contract over every registered implementation ----

class DramContract : public ::testing::TestWithParam<std::string> {};

TEST_P(DramContract, DoneIsNotBeforeArrivalAndCountsEveryByte) {
  auto d = make(GetParam(), timed_spec());
  uint64_t bytes = 0;
  for (uint64_t i = 0; i < 200; ++i) {
    const uint64_t pa = (i * 7919) % (1 << 20), len = 1 + (i * 37) % 600;
    const double t = double(i) * 3;
    EXPECT_GE(d->access(pa, len, i % 3 == 0, t), t + 0.5) << i;
    bytes += len;
  }
  EXPECT_EQ(d->counters().bytes_read + d->counters().bytes_written, bytes);
}

TEST_P(DramContract, RefusesAnImpossibleSpec) {
  DramSpec s = timed_spec();
  s.row_bytes = 1000;  // not a multiple of the 256 B chunk
  EXPECT_THROW(make(GetParam(), s), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Registered, DramContract, ::testing::ValuesIn(dram_timing_registry().names()));

TEST(DramRegistry, UnknownNameListsTheRegisteredOnes) {
  try {
    make("open_page", timed_spec());
    FAIL() << "no exception";
  } catch (const hmmsim::common::UnknownImpl& e) {
    EXPECT_STREQ(e.what(), "unknown DRAM timing 'open_page'; registered: bank_row, fixed");
  }
}

TEST(DramSpecCheck, NamesTheOffendingKey) {
  auto key_of = [](std::function<void(DramSpec&)> f) {
    DramSpec s = timed_spec();
    f(s);
    auto e = check_dram_spec(s);
    return e ? e->key : std::string("(ok)");
  };
  EXPECT_EQ(key_of([](DramSpec&) {}), "(ok)");
  EXPECT_EQ(key_of([](DramSpec& s) { s.channels = 0; }), "channels");
  EXPECT_EQ(key_of([](DramSpec& s) { s.banks_per_channel = 10; }), "banks_per_channel");  // 4 groups
  EXPECT_EQ(key_of([](DramSpec& s) { s.burst_bytes = 48; }), "row_bytes");
  EXPECT_EQ(key_of([](DramSpec& s) { s.t_ras_ns = 5; }), "t_ras");
  EXPECT_EQ(key_of([](DramSpec& s) { s.t_ccd_s_ns = 1; }), "t_ccd_s");  // shorter than a 2 ns burst
  EXPECT_EQ(key_of([](DramSpec& s) { s.t_ccd_l_ns = 1.5, s.t_ccd_s_ns = 2; }), "t_ccd_l");
  EXPECT_EQ(key_of([](DramSpec& s) { s.t_refi_ns = 100, s.t_rfc_ns = 100; }), "t_rfc");
  EXPECT_EQ(key_of([](DramSpec& s) { s.t_refi_ns = 100; }), "t_rfc");
  EXPECT_EQ(key_of([](DramSpec& s) { s.mapping = DramMapping::RoBaCoChBg, s.interleave_bytes = 64; }),
            "interleave_bytes");
}

// ---- presets: sustained streaming bandwidth ----

namespace {

// A closed loop of `outstanding` reads of `req` bytes over consecutive
// addresses: each new read is issued when the oldest one completes. Returns
// bytes / elapsed ns (GB/s).
double stream_gbps(const DramSpec& s, uint64_t total, uint64_t req, unsigned outstanding) {
  auto d = make("bank_row", s);
  std::priority_queue<double, std::vector<double>, std::greater<double>> free_at;
  for (unsigned i = 0; i < outstanding; ++i) free_at.push(0);
  double end = 0;
  for (uint64_t a = 0; a < total; a += req) {
    const double issue = free_at.top();
    free_at.pop();
    const double done = d->access(a, req, false, issue);
    free_at.push(done);
    end = std::max(end, done);
  }
  return double(total) / end;
}

}  // namespace

class PresetStream : public ::testing::TestWithParam<std::string> {};

// Sequential 128 B reads over 64 MiB with 64 per channel (at least 4096) in
// flight: within 80-100 % of the vendor peak (sustained HBM/GDDR rates are
// typically 70-90 %; refresh and row switches are what this model loses).
TEST_P(PresetStream, SequentialReadsReachTheDatasheetPeak) {
  const DramPreset* p = dram_preset(GetParam());
  ASSERT_NE(p, nullptr);
  EXPECT_NEAR(dram_peak_gbps(p->spec), p->vendor_peak_gbps, p->vendor_peak_gbps * 0.001);
  const unsigned in_flight = std::max(4096u, 64 * p->spec.channels);
  const double gbps = stream_gbps(p->spec, 64ull << 20, 128, in_flight);
  std::printf("preset %-7s %-34s %5u in flight: %7.1f GB/s of %6.0f GB/s peak (%.1f %%)\n", p->name.c_str(),
              p->gpu.c_str(), in_flight, gbps, p->vendor_peak_gbps, 100 * gbps / p->vendor_peak_gbps);
  EXPECT_GE(gbps, 0.80 * p->vendor_peak_gbps);
  EXPECT_LE(gbps, 1.00 * p->vendor_peak_gbps);
  // Saturated: twice the requests in flight gain (almost) nothing.
  EXPECT_LT(stream_gbps(p->spec, 64ull << 20, 128, 2 * in_flight), gbps * 1.02);
}

TEST_P(PresetStream, FewRequestsInFlightCannotFillTheBus) {
  // Little's law: 64 reads of 128 B with ~40+ ns latency each cannot reach peak.
  const DramPreset* p = dram_preset(GetParam());
  ASSERT_NE(p, nullptr);
  EXPECT_LT(stream_gbps(p->spec, 8ull << 20, 128, 64), 0.5 * p->vendor_peak_gbps);
}

TEST(PresetStreamMapping, HbmWithoutBankGroupRotationIsHeldByCcdLong) {
  // ro_ba_co_ch keeps a 256 B chunk's 8 bursts in one bank group: they go
  // out tCCD_L (4 tCK) apart, twice a burst (2 tCK), so about half the peak.
  DramSpec s = dram_preset("hbm2")->spec;
  s.mapping = DramMapping::RoBaCoCh;
  const double gbps = stream_gbps(s, 16ull << 20, 128, 4096);
  EXPECT_LT(gbps, 0.52 * dram_peak_gbps(s));
  EXPECT_GT(gbps, 0.40 * dram_peak_gbps(s));
}

INSTANTIATE_TEST_SUITE_P(AllPresets, PresetStream, ::testing::Values("hbm2", "hbm2e", "hbm3", "gddr6x"));

TEST(DramPresets, EachPresetPassesItsOwnCheck) {
  ASSERT_EQ(dram_presets().size(), 4u);
  for (const auto& p : dram_presets()) {
    EXPECT_FALSE(check_dram_spec(p.spec)) << p.name;
    EXPECT_DOUBLE_EQ(p.spec.burst_bytes, p.bus_bits * p.burst_length / 8.0) << p.name;
  }
}
