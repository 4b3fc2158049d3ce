#pragma once
// Coalescing of one warp memory instruction, as a GPU's load/store unit
// does it: the active lanes' byte ranges fold into 128-byte lines (each a
// set of 32-byte sectors) and into distinct 4 KiB pages. Each page needs one
// translation; each line is one memory access. Plain C++ on the hot path:
// fixed-size arrays, no allocation.
#include <cstdint>

#include "hw/kernel/warp_instr.h"

namespace hmmsim::hw {

constexpr uint64_t kLineBytes = 128, kSectorBytes = 32, kPageBytes = 4096;

struct CoalescedLine {
  uint64_t addr;          // 128-byte aligned
  uint8_t page;           // index into Coalesced::pages
  uint8_t sectors;        // bit s: sector s of the line is touched
  uint8_t lo, hi;         // touched byte span [lo, hi) within the line
  uint8_t enable[kLineBytes];  // 0xff where a lane's bytes fall (stores write only these)
};

struct Coalesced {
  static constexpr unsigned kMaxLines = 2 * kWarpSize;  // a lane may straddle two lines
  unsigned active_lanes = 0, nlines = 0, npages = 0, sectors = 0;
  uint64_t bytes = 0;  // sum of active lanes' widths
  uint64_t pages[kMaxLines];  // 4 KiB-aligned, in order of first touch
  CoalescedLine lines[kMaxLines];
};

// Fills `out` for instruction `in` (lanes with width 0 touch nothing).
// `with_enables`: fill CoalescedLine::enable (only needed for stores with data).
void coalesce(const WarpInstr& in, Coalesced& out, bool with_enables);

}  // namespace hmmsim::hw
