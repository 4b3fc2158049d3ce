#include "hw/kernel/coalescer.h"

#include <algorithm>
#include <cstring>

#include "common/bits.h"

namespace hmmsim::hw {

namespace {

unsigned page_index(Coalesced& c, uint64_t page) {
  for (unsigned i = 0; i < c.npages; ++i)
    if (c.pages[i] == page) return i;
  c.pages[c.npages] = page;
  return c.npages++;
}

CoalescedLine& line_for(Coalesced& c, uint64_t line, bool with_enables) {
  // Accesses usually hit the line of the previous lane: look there first.
  if (c.nlines && c.lines[c.nlines - 1].addr == line) return c.lines[c.nlines - 1];
  for (unsigned i = 0; i + 1 < c.nlines; ++i)
    if (c.lines[i].addr == line) return c.lines[i];
  CoalescedLine& l = c.lines[c.nlines++];
  l.addr = line;
  l.page = static_cast<uint8_t>(page_index(c, line & ~(kPageBytes - 1)));
  l.sectors = 0;
  l.lo = kLineBytes - 1;
  l.hi = 0;
  if (with_enables) std::memset(l.enable, 0, sizeof l.enable);
  return l;
}

// All 32 lanes active and back to back (lane i at addr[0] + i * width):
// the common case of streaming kernels, folded line by line without
// searching.
bool contiguous(const WarpInstr& in) {
  if (in.mask != ~0u) return false;
  // No early exit: one OR of differences over a running sum vectorizes.
  uint64_t want = in.addr[0], diff = 0;
  for (unsigned l = 1; l < kWarpSize; ++l) diff |= in.addr[l] ^ (want += in.width);
  return diff == 0;
}

uint8_t sector_bits(uint64_t off, uint64_t n) {
  uint8_t bits = 0;
  for (uint64_t s = off / kSectorBytes; s <= (off + n - 1) / kSectorBytes; ++s) bits |= uint8_t(1u << s);
  return bits;
}

void coalesce_contiguous(const WarpInstr& in, Coalesced& out, bool with_enables) {
  out.active_lanes = kWarpSize;
  out.bytes = uint64_t(kWarpSize) * in.width;
  const uint64_t end = in.addr[0] + out.bytes;
  for (uint64_t a = in.addr[0]; a < end;) {
    const uint64_t off = a & (kLineBytes - 1);
    const uint64_t n = std::min<uint64_t>(end - a, kLineBytes - off);
    CoalescedLine& l = out.lines[out.nlines++];
    l.addr = a - off;
    l.page = static_cast<uint8_t>(page_index(out, l.addr & ~(kPageBytes - 1)));
    l.lo = static_cast<uint8_t>(off);
    l.hi = static_cast<uint8_t>(off + n);
    l.sectors = sector_bits(off, n);
    out.sectors += common::popcount32(l.sectors);
    if (with_enables) {
      std::memset(l.enable, 0, sizeof l.enable);
      std::memset(l.enable + off, 0xff, n);
    }
    a += n;
  }
}

}  // namespace

void coalesce(const WarpInstr& in, Coalesced& out, bool with_enables) {
  out.active_lanes = out.nlines = out.npages = out.sectors = 0;
  out.bytes = 0;
  if (in.width && contiguous(in)) return coalesce_contiguous(in, out, with_enables);
  for (uint32_t m = in.mask; m; m &= m - 1) {
    const unsigned lane = static_cast<unsigned>(__builtin_ctz(m));
    ++out.active_lanes;
    out.bytes += in.width;
    uint64_t a = in.addr[lane];
    uint64_t left = in.width;
    while (left) {  // a lane's bytes may straddle a line boundary
      const uint64_t off = a & (kLineBytes - 1);
      const uint64_t n = left < kLineBytes - off ? left : kLineBytes - off;
      CoalescedLine& l = line_for(out, a - off, with_enables);
      if (off < l.lo) l.lo = static_cast<uint8_t>(off);
      if (off + n > l.hi) l.hi = static_cast<uint8_t>(off + n);
      l.sectors |= sector_bits(off, n);
      if (with_enables) std::memset(l.enable + off, 0xff, n);
      a += n, left -= n;
    }
  }
  for (unsigned i = 0; i < out.nlines; ++i) out.sectors += common::popcount32(out.lines[i].sectors);
}

}  // namespace hmmsim::hw
