#include "hw/kernel/coalescer.h"

#include <cstring>

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

}  // namespace

void coalesce(const WarpInstr& in, Coalesced& out, bool with_enables) {
  out.active_lanes = out.nlines = out.npages = out.sectors = 0;
  out.bytes = 0;
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
      if (off + n > l.hi) l.hi = static_cast<uint8_t>(off + n);  // <= 128 fits: stored as 128 -> 0x80
      for (uint64_t s = off / kSectorBytes; s <= (off + n - 1) / kSectorBytes; ++s) l.sectors |= 1u << s;
      if (with_enables) std::memset(l.enable + off, 0xff, n);
      a += n, left -= n;
    }
  }
  for (unsigned i = 0; i < out.nlines; ++i) out.sectors += __builtin_popcount(out.lines[i].sectors);
}

}  // namespace hmmsim::hw
