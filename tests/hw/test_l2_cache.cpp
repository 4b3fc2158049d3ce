// L2 cache: exact tag behaviour of L2CacheCore on a tiny geometry, and the
// L2Cache TLM module in front of a real Vram (data always VRAM's; latency
// from the specs).
//
// Tiny geometry: 2 sets x 2 ways of 128 B lines, 4 x 32 B sectors. Line n
// (PA n * 128) maps to set n % 2, so lines 0, 2, 4 compete for set 0.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "hw/l2_cache.h"
#include "hw/vram.h"
#include "tests/hw/sc_test_support.h"

using hmmsim::hw::L2Cache;
using hmmsim::hw::L2CacheCore;
using hmmsim::hw::L2CacheSpec;
using hmmsim::hw::L2Outcome;
using hmmsim::hw::Vram;
using hmmsim::hw::VramCore;
using hmmsim::hw::VramSpec;
using namespace hmmsim::sctest;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

L2CacheSpec tiny() {
  L2CacheSpec s;
  s.enabled = true;
  s.size_bytes = 512;
  s.ways = 2;
  s.line_bytes = 128;
  s.sector_bytes = 32;
  return s;
}

constexpr uint64_t L(uint64_t n) { return n * 128; }  // PA of line n

struct Got {
  uint32_t hits, sector_misses, line_misses;
  size_t fetches, writebacks;
};
Got got(const L2Outcome& o) {
  return {o.sector_hits, o.sector_misses, o.line_misses, o.fetch.size(), o.writeback.size()};
}
bool operator==(const Got& a, const Got& b) {
  return a.hits == b.hits && a.sector_misses == b.sector_misses && a.line_misses == b.line_misses &&
         a.fetches == b.fetches && a.writebacks == b.writebacks;
}
std::ostream& operator<<(std::ostream& o, const Got& g) {
  return o << "{hits " << g.hits << ", sector_misses " << g.sector_misses << ", line_misses " << g.line_misses
           << ", fetch runs " << g.fetches << ", writeback runs " << g.writebacks << "}";
}

}  // namespace

TEST(L2CacheSpec, RejectsImpossibleGeometry) {
  EXPECT_FALSE(L2CacheSpec{}.validate());
  EXPECT_FALSE(tiny().validate());
  L2CacheSpec s = tiny();
  s.size_bytes = 640;  // not a multiple of 2 ways x 128 B
  ASSERT_TRUE(s.validate());
  EXPECT_EQ(s.validate()->key, "size");
  s = tiny();
  s.sector_bytes = 48;  // does not divide the line
  EXPECT_EQ(s.validate()->key, "sector");
  s = tiny();
  s.sector_bytes = 256;  // larger than the line
  EXPECT_EQ(s.validate()->key, "line");
  s = tiny();
  s.line_bytes = 2048;  // 64 sectors of 32 B
  s.size_bytes = 4096;
  EXPECT_EQ(s.validate()->key, "sector");
  s = tiny();
  s.ways = 0;
  EXPECT_EQ(s.validate()->key, "ways");
  s = tiny();
  s.clock_mhz = 0;
  EXPECT_EQ(s.validate()->key, "clock_mhz");
  s = tiny();
  s.size_bytes = 0;
  EXPECT_THROW(L2CacheCore{s}, std::invalid_argument);
}

TEST(L2CacheSpec, DefaultIsV100Geometry) {
  const L2CacheSpec s;
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.sets(), 2048u);  // 6 MiB / (24 ways x 128 B)
}

TEST(L2CacheCore, ReadFetchesOnlyTheTouchedSectorsThenHitsThem) {
  L2CacheCore c(tiny());
  const L2Outcome& a = c.access(L(0) + 32, 64, false);  // sectors 1 and 2
  EXPECT_EQ(got(a), (Got{0, 0, 1, 1, 0}));
  ASSERT_EQ(a.fetch.size(), 1u);
  EXPECT_EQ(a.fetch[0].pa, L(0) + 32);
  EXPECT_EQ(a.fetch[0].bytes, 64u);
  EXPECT_EQ(got(c.access(L(0) + 40, 8, false)), (Got{1, 0, 0, 0, 0}));  // inside sector 1
  // Sectors 0..3: 0 and 3 miss in a present line (two separate runs), 1 and 2 hit.
  const L2Outcome& b = c.access(L(0), 128, false);
  EXPECT_EQ(got(b), (Got{2, 2, 0, 2, 0}));
  EXPECT_EQ(b.fetch[0].pa, L(0));
  EXPECT_EQ(b.fetch[1].pa, L(0) + 96);
  EXPECT_EQ(got(c.access(L(0), 128, false)), (Got{4, 0, 0, 0, 0}));
  EXPECT_EQ(c.s_reads, 4u);
  EXPECT_EQ(c.s_read_misses, 2u);
  EXPECT_EQ(c.s_sector_hits, 7u);
  EXPECT_EQ(c.s_sector_misses, 2u);
  EXPECT_EQ(c.s_line_misses, 1u);
  EXPECT_EQ(c.s_bytes_from_dram, 128u);
}

TEST(L2CacheCore, AccessSpanningLinesTouchesEach) {
  L2CacheCore c(tiny());
  const L2Outcome& a = c.access(L(1) + 96, 64, false);  // last sector of line 1, first of line 2
  EXPECT_EQ(got(a), (Got{0, 0, 2, 2, 0}));
  EXPECT_EQ(a.fetch[0].pa, L(1) + 96);
  EXPECT_EQ(a.fetch[1].pa, L(2));
  EXPECT_TRUE(c.present(L(1)) && c.present(L(2)));
}

TEST(L2CacheCore, LruEvictsTheLeastRecentlyUsedWay) {
  L2CacheCore c(tiny());
  c.access(L(0), 32, false);
  c.access(L(2), 32, false);
  c.access(L(0), 32, false);  // line 0 is now the most recent of set 0
  EXPECT_EQ(got(c.access(L(4), 32, false)), (Got{0, 0, 1, 1, 0}));
  EXPECT_TRUE(c.present(L(0)));
  EXPECT_FALSE(c.present(L(2)));
  EXPECT_TRUE(c.present(L(4)));
  c.access(L(1), 32, false);  // set 1: does not disturb set 0
  c.access(L(2), 32, false);  // evicts line 0 (older than 4)
  EXPECT_FALSE(c.present(L(0)));
  EXPECT_TRUE(c.present(L(4)));
  EXPECT_TRUE(c.present(L(1)));
  EXPECT_EQ(c.s_evictions, 2u);
  EXPECT_EQ(c.s_writebacks, 0u);  // clean lines leave silently
}

TEST(L2CacheCore, WritesAllocateWithoutFetchAndDirtyLinesWriteBackOnEviction) {
  L2CacheCore c(tiny());
  // Full-sector writes: no fetch, sectors valid and dirty.
  EXPECT_EQ(got(c.access(L(0), 64, true)), (Got{0, 0, 1, 0, 0}));
  EXPECT_TRUE(c.sector_valid(L(0)) && c.sector_dirty(L(0) + 32));
  EXPECT_FALSE(c.sector_dirty(L(0) + 64));
  EXPECT_EQ(got(c.access(L(0), 32, false)), (Got{1, 0, 0, 0, 0}));  // reads its own write
  c.access(L(0) + 96, 32, true);                                     // sector 3: dirty, separate run
  c.access(L(2), 32, true);
  c.access(L(2), 32, true);  // line 2 most recent
  const L2Outcome& e = c.access(L(4), 32, false);  // evicts line 0: sectors 0-1 and 3 dirty
  EXPECT_EQ(got(e), (Got{0, 0, 1, 1, 2}));
  EXPECT_EQ(e.writeback[0].pa, L(0));
  EXPECT_EQ(e.writeback[0].bytes, 64u);
  EXPECT_EQ(e.writeback[1].pa, L(0) + 96);
  EXPECT_EQ(e.writeback[1].bytes, 32u);
  c.access(L(6), 32, false);  // evicts dirty line 2
  EXPECT_EQ(c.s_writebacks, 2u);
  EXPECT_EQ(c.s_evictions, 2u);
  EXPECT_EQ(c.s_bytes_to_dram, 128u);
  EXPECT_EQ(c.s_bytes_from_dram, 64u);
}

TEST(L2CacheCore, PartialWriteHitsOnlyReadsOfWrittenBytes) {
  L2CacheCore c(tiny());
  // Byte enables: bytes 0-3 of every 8 (a warp store of every other word).
  const uint8_t be[8] = {1, 1, 1, 1, 0, 0, 0, 0};
  EXPECT_EQ(got(c.access(L(0), 32, true, be, 8)), (Got{0, 0, 1, 0, 0}));
  EXPECT_FALSE(c.sector_valid(L(0)));  // partly written
  EXPECT_TRUE(c.sector_dirty(L(0)));
  EXPECT_EQ(got(c.access(L(0) + 8, 4, false)), (Got{1, 0, 0, 0, 0}));  // written bytes: hit
  const L2Outcome& m = c.access(L(0) + 4, 4, false);                  // unwritten: lazy fetch of the sector
  EXPECT_EQ(got(m), (Got{0, 1, 0, 1, 0}));
  EXPECT_EQ(m.fetch[0].pa, L(0));
  EXPECT_EQ(m.fetch[0].bytes, 32u);
  EXPECT_TRUE(c.sector_valid(L(0)));
  EXPECT_EQ(got(c.access(L(0), 32, false)), (Got{1, 0, 0, 0, 0}));
  // Enables filling the rest of sector 1 in two writes make it valid without a fetch.
  c.access(L(0) + 32, 32, true, be, 8);
  const uint8_t odd[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  c.access(L(0) + 32, 32, true, odd, 8);
  EXPECT_TRUE(c.sector_valid(L(0) + 32));
  // A write whose enables are all off touches nothing.
  const uint8_t none = 0;
  EXPECT_EQ(got(c.access(L(4), 32, true, &none, 1)), (Got{0, 0, 0, 0, 0}));
  EXPECT_FALSE(c.present(L(4)));
}

TEST(L2CacheCore, FlushCleansAndInvalidateDrops) {
  L2CacheCore c(tiny());
  c.access(L(0), 32, true);
  c.access(L(1) + 64, 64, true);
  c.access(L(3), 32, false);
  const auto& f = c.flush();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(c.s_bytes_to_dram, 96u);
  EXPECT_FALSE(c.sector_dirty(L(0)));
  EXPECT_TRUE(c.present(L(0)));
  EXPECT_TRUE(c.flush().empty());  // nothing dirty any more
  c.access(L(1), 32, true);
  // [L(1) + 1, L(3)) overlaps lines 1 and 2; line 3 stays.
  EXPECT_EQ(c.invalidate_range(L(1) + 1, L(3) - L(1) - 1, true).size(), 1u);
  EXPECT_FALSE(c.present(L(1)));
  EXPECT_TRUE(c.present(L(0)) && c.present(L(3)));
  c.access(L(0), 32, true);
  EXPECT_TRUE(c.invalidate_range(0, 1ull << 40, false).empty());  // wider than the cache: dirty data discarded
  EXPECT_EQ(c.s_dirty_discarded, 1u);
  EXPECT_FALSE(c.present(L(0)) || c.present(L(3)));
  EXPECT_EQ(c.s_invalidated_lines, 3u);
}

// --- TLM module -----------------------------------------------------------

namespace {

struct Bench {
  explicit Bench(const L2CacheSpec& s = tiny()) : spec(s), vram("vram", vspec), l2("l2", spec), cpu("cpu") {
    cpu.socket.bind(l2.socket);
    l2.vram_socket.bind(vram.socket);
  }
  L2CacheSpec spec;
  VramSpec vspec;
  Vram vram;
  L2Cache l2;
  Initiator cpu;
};

// What VRAM charges for one access of `len` bytes at `pa` to a fresh
// device (all banks closed), from its own timing model.
uint64_t cold_dram_ps(const VramSpec& v, uint64_t pa, uint32_t len, bool write = false) {
  VramCore ref(v);
  const double arrive = 1000;
  return ps_of_ns(ref.access(pa, len, arrive, write) - arrive);
}

}  // namespace

TEST(L2Cache, ReadsReturnVramBytesAndHitsAreFasterThanMisses) {
  Bench b;
  std::vector<uint8_t> pattern(256);
  for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = static_cast<uint8_t>(i * 7 + 3);
  b.vram.core().write(0, pattern.data(), pattern.size());
  uint64_t miss_ps = 0, hit_ps = 0;
  std::vector<uint8_t> first(64), second(64);
  b.cpu.body = [&] {
    sc_time d = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(b.cpu.read(64, first.data(), 64, d), tlm::TLM_OK_RESPONSE);
    miss_ps = ps(d);
    sc_core::wait(sc_time(1000, SC_NS));
    d = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(b.cpu.read(64, second.data(), 64, d), tlm::TLM_OK_RESPONSE);
    hit_ps = ps(d);
  };
  sc_core::sc_start();
  EXPECT_EQ(0, std::memcmp(first.data(), pattern.data() + 64, 64));
  EXPECT_EQ(0, std::memcmp(second.data(), pattern.data() + 64, 64));
  EXPECT_EQ(hit_ps, ps_of_ns(b.spec.hit_ns()));
  EXPECT_EQ(miss_ps, ps_of_ns(b.spec.hit_ns()) + cold_dram_ps(b.vspec, 64, 64));
  EXPECT_LT(hit_ps, miss_ps);
  EXPECT_EQ(b.vram.core().s_reads, 1u);  // only the fill reached DRAM
  EXPECT_EQ(b.vram.core().s_bytes_read, 64u);
}

TEST(L2Cache, WritesLandInVramAtOnceAndEvictionWritesBackTimingOnly) {
  Bench b;
  std::vector<uint8_t> data(128);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(0xA0 + i);
  uint64_t write_ps = 0;
  b.cpu.body = [&] {
    sc_time d = sc_core::SC_ZERO_TIME;
    ASSERT_EQ(b.cpu.write(L(0), data.data(), 128, d), tlm::TLM_OK_RESPONSE);
    write_ps = ps(d);
    std::vector<uint8_t> scratch(32);
    for (uint64_t line : {L(2), L(4)}) {  // two reads into set 0 evict dirty line 0
      d = sc_core::SC_ZERO_TIME;
      b.cpu.read(line, scratch.data(), 32, d);
    }
  };
  sc_core::sc_start();
  std::vector<uint8_t> in_vram(128);
  b.vram.core().read(L(0), in_vram.data(), 128);
  EXPECT_EQ(in_vram, data);  // written through for data at once
  EXPECT_EQ(write_ps, ps_of_ns(b.spec.hit_ns()));  // write-allocate: no DRAM wait
  EXPECT_EQ(b.l2.core().s_writebacks, 1u);
  EXPECT_EQ(b.vram.core().s_writes, 1u);  // the writeback, with every byte disabled
  EXPECT_EQ(b.vram.core().s_bytes_written, 128u);
  b.vram.core().read(L(0), in_vram.data(), 128);
  EXPECT_EQ(in_vram, data);  // and it changed nothing
}

TEST(L2Cache, ByteEnabledWritesChangeOnlyEnabledBytes) {
  Bench b;
  std::vector<uint8_t> before(64, 0x55), data(64, 0xEE);
  b.vram.core().write(L(1), before.data(), 64);
  uint8_t be[4] = {0xFF, 0, 0xFF, 0};
  b.cpu.body = [&] {
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(L(1));
    t.set_data_ptr(data.data());
    t.set_data_length(64);
    t.set_streaming_width(64);
    t.set_byte_enable_ptr(be);
    t.set_byte_enable_length(4);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time d = sc_core::SC_ZERO_TIME;
    b.cpu.socket->b_transport(t, d);
    EXPECT_TRUE(t.is_response_ok());
  };
  sc_core::sc_start();
  std::vector<uint8_t> got(64);
  b.vram.core().read(L(1), got.data(), 64);
  for (unsigned i = 0; i < 64; ++i) EXPECT_EQ(got[i], (i % 4 == 0 || i % 4 == 2) ? 0xEE : 0x55) << i;
}

// Random reads and writes (random enables, lengths, lines crossing) through
// a thrashing cache against a reference copy: every read must match.
TEST(L2Cache, RandomTrafficReadsWhatWasWritten) {
  Bench b;
  constexpr uint64_t kSpan = 1024;  // 8 lines over a 4-line cache: hits and evictions both
  std::vector<uint8_t> ref(kSpan, 0);
  uint64_t mismatches = 0, reads = 0;
  b.cpu.body = [&] {
    std::mt19937_64 rng(12345);
    std::vector<uint8_t> buf(256), be(8);
    for (int i = 0; i < 4000; ++i) {
      const uint32_t len = 1 + rng() % 200;
      const uint64_t pa = rng() % (kSpan - len);
      sc_time d = sc_core::SC_ZERO_TIME;
      if (rng() % 2) {
        for (uint32_t k = 0; k < len; ++k) buf[k] = static_cast<uint8_t>(rng());
        for (auto& e : be) e = rng() % 3 ? 0xFF : 0;
        tlm::tlm_generic_payload t;
        t.set_command(tlm::TLM_WRITE_COMMAND);
        t.set_address(pa);
        t.set_data_ptr(buf.data());
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_byte_enable_ptr(be.data());
        t.set_byte_enable_length(8);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        b.cpu.socket->b_transport(t, d);
        for (uint32_t k = 0; k < len; ++k)
          if (be[k % 8]) ref[pa + k] = buf[k];
      } else {
        ++reads;
        b.cpu.read(pa, buf.data(), len, d);
        if (std::memcmp(buf.data(), ref.data() + pa, len)) ++mismatches;
      }
      sc_core::wait(d);
    }
  };
  sc_core::sc_start();
  EXPECT_GT(reads, 1500u);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(b.l2.core().s_writebacks, 100u);  // the cache really thrashed
  EXPECT_GT(b.l2.core().s_sector_hits, 1000u);
}

TEST(L2Cache, DisabledIsAWireToVram) {
  L2CacheSpec s = tiny();
  s.enabled = false;
  Bench b(s);
  uint64_t first = 0, second = 0;
  b.cpu.body = [&] {
    uint8_t buf[32];
    sc_time d = sc_core::SC_ZERO_TIME;
    b.cpu.read(0, buf, 32, d);
    first = ps(d);
    sc_core::wait(sc_time(1000, SC_NS));
    d = sc_core::SC_ZERO_TIME;
    b.cpu.read(0, buf, 32, d);
    second = ps(d);
  };
  sc_core::sc_start();
  // Exactly VRAM's own times for the same two reads (the second finds the row open).
  VramCore ref(b.vspec);
  EXPECT_EQ(first, ps_of_ns(ref.access(0, 32, 0) - 0));
  EXPECT_EQ(second, ps_of_ns(ref.access(0, 32, 1000) - 1000));  // issued at 1000 ns
  EXPECT_LT(second, first);
  EXPECT_EQ(b.l2.core().s_reads, 0u);
  EXPECT_EQ(b.vram.core().s_reads, 2u);
}

TEST(L2Cache, OutOfRangeIsAnAddressErrorAndCachesNothing) {
  Bench b;
  tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
  b.cpu.body = [&] {
    uint8_t buf[32];
    sc_time d = sc_core::SC_ZERO_TIME;
    st = b.cpu.read(b.vspec.capacity_bytes, buf, 32, d);
  };
  sc_core::sc_start();
  EXPECT_EQ(st, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(b.l2.s_decode_errors, 1u);
  EXPECT_FALSE(b.l2.core().present(b.vspec.capacity_bytes));
}

TEST(L2Cache, FlushWritesBackDirtyLinesAsTimedVramWrites) {
  Bench b;
  sc_time done;
  b.cpu.body = [&] {
    uint8_t buf[64] = {1, 2, 3};
    sc_time d = sc_core::SC_ZERO_TIME;
    b.cpu.write(L(0), buf, 64, d);
    sc_core::wait(d);
    done = b.l2.flush(sc_core::SC_ZERO_TIME);
  };
  sc_core::sc_start();
  EXPECT_EQ(ps(done), cold_dram_ps(b.vspec, L(0), 64, true));
  EXPECT_EQ(b.vram.core().s_writes, 1u);
  EXPECT_FALSE(b.l2.core().sector_dirty(L(0)));
  uint8_t back[3];
  b.vram.core().read(L(0), back, 3);
  EXPECT_EQ(back[2], 3);
}
