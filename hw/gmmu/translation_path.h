#pragma once
// The translation hierarchy behind one GPU's SMs, as plain C++ over ns of
// simulated time:
//   L1 TLB (one per uTLB/SM) -> L1.5 TLB (optional, one per cluster of N
//   SMs) -> L2 TLB (optional, shared) -> page walker (K walkers + page-walk
//   cache) -> VRAM.
// Each level has a port (lookups per cycle), a hit latency and MSHRs; a miss
// reserves an MSHR at every level it passes and fills every level on its
// way back. The Gmmu adds the fault unit and the SystemC side.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "hw/gmmu/page_walker.h"
#include "hw/tlb/mshr_file.h"
#include "hw/tlb/tlb.h"

namespace hmmsim::hw {

struct TlbHierarchySpec {
  TlbSpec l1;
  bool l15_enabled = false;
  uint32_t l15_cluster = 2;  // SMs sharing one L1.5 (a TPC on Pascal/Volta)
  TlbSpec l15{"unified", "lru", 64, 0, 4, 2, 16};
  bool l2_enabled = true;
  TlbSpec l2{"unified", "lru", 1024, 8, 8, 2, 64};
  std::optional<common::SpecError> validate() const;
};

// Which structure answered.
enum class XlateLevel : uint8_t { L1, L15, L2, Walk };

struct XlateResult {
  bool valid = false;    // a valid PTE was found (permissions are checked by the caller)
  Translation t;
  hwref::FaultType fault = hwref::FaultType::InvalidPte;
  XlateLevel level = XlateLevel::L1;
  double done = 0;       // ns
};

// One level: storage (a registered TLB organisation), port and MSHRs.
struct TlbLevel {
  TlbLevel(const TlbSpec& s, double cycle_ns);
  TlbSpec spec;
  std::unique_ptr<ITlb> tlb;
  MshrFile mshr;
  PortSchedule port;
  double hit_ns;
  uint64_t s_merges = 0;  // misses that waited for a fill already in flight
};

class TranslationPath {
 public:
  TranslationPath(const TlbHierarchySpec& spec, const WalkerSpec& walker, unsigned utlbs, double cycle_ns,
                  ITableMemory& mem);
  // Translates `va` for uTLB `utlb`, arriving at L1 at `t` ns.
  XlateResult translate(unsigned utlb, uint64_t va, Access a, double t);
  // Drops cached translations overlapping [va, va + bytes) (0 = all) at
  // every level; `directories` also drops page-walk-cache entries.
  void invalidate(uint64_t va, uint64_t bytes, bool directories);

  unsigned utlbs() const { return static_cast<unsigned>(m_l1.size()); }
  TlbLevel& l1(unsigned i) { return *m_l1[i]; }
  unsigned l15_count() const { return static_cast<unsigned>(m_l15.size()); }
  TlbLevel& l15(unsigned i) { return *m_l15[i]; }
  bool has_l2() const { return m_l2 != nullptr; }
  TlbLevel& l2() { return *m_l2; }
  PageWalker& walker() { return m_walker; }
  uint32_t l1_lookups_per_cycle() const { return m_spec.l1.lookups_per_cycle; }

 private:
  struct Hop {
    TlbLevel* level;
    XlateLevel kind;
  };
  XlateResult descend(const Hop* chain, unsigned n, unsigned i, uint64_t va, Access a, double t);

  const TlbHierarchySpec m_spec;
  std::vector<std::unique_ptr<TlbLevel>> m_l1, m_l15;
  std::unique_ptr<TlbLevel> m_l2;
  PageWalker m_walker;
};

}  // namespace hmmsim::hw
