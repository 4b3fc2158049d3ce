#pragma once
// What a TLB entry holds and what a requester asks for. Entries record their
// page size: 4 KiB, 64 KiB and 2 MiB pages coexist (hwref/page_table_format.h).
#include <cstdint>

namespace hmmsim::hw {

enum class Access : uint8_t { Read, Write, Atomic };

// log2 of the page sizes the page-table format maps, smallest first.
constexpr unsigned kPageShifts[] = {12, 16, 21};
constexpr unsigned kPageSizes = 3;
constexpr unsigned page_size_index(unsigned shift) { return shift == 12 ? 0 : shift == 16 ? 1 : 2; }

struct Translation {
  uint64_t pa = 0;        // base of the page, aligned to its size
  uint8_t aperture = 0;   // hwref::pt::Aperture
  uint8_t shift = 12;     // page size: 12, 16 or 21
  bool writable = false;
  bool atomic = true;     // false: the PTE has atomic-disable set
  uint64_t bytes() const { return 1ull << shift; }
  uint64_t pa_of(uint64_t va) const { return pa | (va & (bytes() - 1)); }
  bool permits(Access a) const { return a == Access::Read || (writable && (a == Access::Write || atomic)); }
};

}  // namespace hmmsim::hw
