#pragma once
// Small builders shared by the TLB core tests.
#include <cstdint>
#include <string>

#include "hw/tlb/tlb.h"

namespace hmmsim::tlbtest {

inline hw::TlbSpec spec(const std::string& impl, const std::string& repl, uint32_t entries, uint32_t ways) {
  hw::TlbSpec s;
  s.impl = impl;
  s.replacement = repl;
  s.entries = entries;
  s.ways = ways;
  return s;
}

inline hw::Translation tr(uint64_t pa, unsigned shift = 12, bool writable = true) {
  hw::Translation t;
  t.pa = pa;
  t.shift = static_cast<uint8_t>(shift);
  t.writable = writable;
  t.aperture = 1;
  return t;
}

}  // namespace hmmsim::tlbtest
