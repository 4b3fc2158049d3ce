#pragma once
// Bit counting without a library call: the build targets baseline x86-64
// (no POPCNT instruction), where __builtin_popcount calls libgcc, and the
// coalescer counts the sectors of every line it touches.
#include <cstdint>

namespace hmmsim::common {

inline unsigned popcount32(uint32_t x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0Fu;
  return (x * 0x01010101u) >> 24;
}

}  // namespace hmmsim::common
