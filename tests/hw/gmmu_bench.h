#pragma once
// A tiny GMMU platform for unit tests: VRAM holding a hand-written page
// table, the GMMU, and a stand-in host that records what the fault unit
// writes upstream (32-byte fault entries in the ring, 4-byte MSIs).
#include <gtest/gtest.h>

#include <vector>

#include "hw/gmmu/gmmu.h"
#include "hw/vram.h"
#include "hwref/fault_entry.h"
#include "hwref/gpu_regs.h"
#include "hwref/page_table_format.h"
#include "tests/hw/pt_builder.h"
#include "tests/hw/sc_test_support.h"

using hmmsim::hw::Gmmu;
using hmmsim::hw::GmmuSpec;
using hmmsim::hw::Access;
using hmmsim::hw::TlbHierarchySpec;
using hmmsim::hw::Vram;
using hmmsim::hw::VramSpec;
using hmmsim::hwref::AccessType;
using hmmsim::hwref::FaultEntry;
using hmmsim::hwref::FaultType;
namespace pt = hmmsim::hwref::pt;
using namespace hmmsim::sctest;
using sc_core::SC_NS;
using sc_core::sc_time;
using Outcome = Gmmu::Outcome;

namespace gmmu_test {

// Indices 2, 3, 5, 7, 9 at PD3, PD2, PD1, PD0, PT: every level is really indexed.
constexpr uint64_t kVa = (2ull << 47) | (3ull << 38) | (5ull << 29) | (7ull << 21) | (9ull << 12);
constexpr uint64_t kVaNextPage = kVa + 0x1000;      // same PT, PTE left empty
constexpr uint64_t kVaNoPd0 = kVa + (1ull << 21);   // PD0 entry 8 absent: 4 reads
constexpr uint64_t kVaNoPd3 = kVa ^ (1ull << 47);   // PD3 entry 3 absent: 1 read
constexpr uint64_t kPageA = 0x200000, kPageB = 0x201000, kPageC = 0x202000;  // VRAM frames
constexpr uint64_t kRing = 0x100000;   // host PA of the fault ring
constexpr uint64_t kMsi = 0xFEE00000;  // host PA of the MSI doorbell

inline GmmuSpec plain_gmmu() {
  GmmuSpec g;
  g.walker.pwc.impl = "none";
  return g;
}
inline TlbHierarchySpec l1_only() {
  TlbHierarchySpec t;
  t.l2_enabled = false;
  return t;
}

struct Bench {
  explicit Bench(const GmmuSpec& g = plain_gmmu(), unsigned utlbs = 2, const TlbHierarchySpec& t = l1_only())
      : gspec(g),
        tspec(t),
        vram("vram", vspec),
        gmmu("gmmu", gspec, tspec, utlbs),
        host("host", 4 << 20, kMsi),
        drv("drv"),
        pt(vram.core(), 0) {
    gmmu.vram_socket.bind(vram.socket);
    gmmu.host_socket.bind(host.socket);
    gmmu.set_pdb(pt.root());
  }

  // Expected latencies, from the specs (each rounded to the 1 ps resolution,
  // as the model adds them as separate sc_time terms).
  double cycle_ns() const { return 1000.0 / gspec.clock_mhz; }
  uint64_t hit_ps() const { return ps_of_ns(tspec.l1.hit_cycles * cycle_ns()); }
  uint64_t level_ps() const { return ps_of_ns(gspec.walker.level_cycles * cycle_ns()); }
  uint64_t miss_read_ps(unsigned len = 8) const {
    return ps_of_ns(vspec.t_rcd_ns + vspec.t_cl_ns + len / vspec.channel_gbps);
  }
  uint64_t open_read_ps(unsigned len = 8) const { return ps_of_ns(vspec.t_cl_ns + len / vspec.channel_gbps); }
  // Hit check plus a walk of `reads` levels on a fresh (all banks closed)
  // VRAM; the fourth read is PD0's 16-byte dual entry.
  uint64_t cold_walk_ps(unsigned reads) const {
    uint64_t t = hit_ps();
    for (unsigned i = 0; i < reads; ++i) t += level_ps() + miss_read_ps(i == 3 ? 16 : 8);
    return t;
  }
  uint64_t open_walk_ps() const {
    uint64_t t = 0;
    for (unsigned i = 0; i < 5; ++i) t += level_ps() + open_read_ps(i == 3 ? 16 : 8);
    return t;
  }
  hmmsim::hw::PageWalker& walker() { return gmmu.path().walker(); }
  hmmsim::hw::ITlb& l1(unsigned i) { return *gmmu.l1(i).tlb; }

  // Runs translate() from the driver thread and then lets its latency pass,
  // so the next call starts on an idle walker and VRAM.
  Gmmu::Result translate(unsigned utlb, uint64_t va, bool write, sc_time* lat = nullptr) {
    return access(utlb, va, write ? Access::Write : Access::Read, lat);
  }
  Gmmu::Result access(unsigned utlb, uint64_t va, Access a, sc_time* lat = nullptr) {
    sc_time d = sc_core::SC_ZERO_TIME;
    Gmmu::Result r = gmmu.translate(utlb, va, a, d);
    if (lat) *lat = d;
    sc_core::wait(d);
    return r;
  }
  FaultEntry entry(size_t i) const {
    EXPECT_LT(i, host.writes.size());
    EXPECT_EQ(host.writes[i].data.size(), hmmsim::hwref::kFaultEntryBytes);
    return hmmsim::hwref::decode(host.writes[i].data.data());
  }

  const GmmuSpec gspec;
  const TlbHierarchySpec tspec;
  const VramSpec vspec{};
  Vram vram;
  Gmmu gmmu;
  HostTarget host;
  Thread drv;
  PtBuilder pt;
};

}  // namespace gmmu_test
