#pragma once
// Page-walk caches: upper-level page-table entries (PD3..PD0) the walker
// read recently, so a walk reads only the levels below the deepest hit.
// A component family chosen by `gpu.gmmu.pwc.impl`:
//   per_level  one fully associative LRU cache per directory level,
//              `entries: [pd3, pd2, pd1, pd0]`;
//   unified    one LRU cache shared by the levels, `entries: [n]`;
//   none       no caching: every walk reads from the top.
// Only present directory entries are cached, never leaves: a PD0 entry that
// holds a 2 MiB PTE is a leaf and goes to the TLBs instead. Plain C++.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/registry.h"

namespace hmmsim::hw {

struct PwcSpec {
  std::string impl = "per_level";
  std::vector<uint64_t> entries = {4, 8, 16, 32};  // PD3, PD2, PD1, PD0 (estimates, docs/translation.md)
  uint32_t hit_cycles = 2;
  std::optional<common::SpecError> validate() const;
};

// One cached directory entry: PD0's is 16 bytes (both halves of the dual entry).
struct PwcEntry {
  uint64_t word[2] = {0, 0};
};

class IPageWalkCache {
 public:
  virtual ~IPageWalkCache() = default;
  // The deepest directory level (0 = PD3 .. 3 = PD0) whose entry for `va`
  // is cached, with that entry in `out`; -1 if none.
  virtual int probe(uint64_t va, PwcEntry& out) = 0;
  virtual void fill(unsigned level, uint64_t va, const PwcEntry& e) = 0;
  // Drops entries whose coverage overlaps [va, va + bytes); 0 = all.
  virtual void invalidate(uint64_t va, uint64_t bytes) = 0;

  uint64_t s_hits[4] = {}, s_misses = 0, s_fills = 0, s_evictions = 0, s_invalidated = 0;
};

using PwcRegistry = common::Registry<IPageWalkCache, const PwcSpec&>;
PwcRegistry& pwc_registry();
std::unique_ptr<IPageWalkCache> make_pwc(const PwcSpec& spec);

}  // namespace hmmsim::hw
