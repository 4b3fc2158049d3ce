#pragma once
// Runs of enabled bytes in a TLM byte-enable pattern (byte i is enabled when
// be[i % be_len] != 0), so memory targets write only what a scattered warp
// store really wrote. Plain C++: TLM passes the pattern as raw bytes.
#include <cstdint>

namespace hmmsim::common {

// Calls f(offset, length) for each maximal run of enabled bytes in [0, len).
// A null pattern enables everything.
template <class F>
void for_each_enabled_run(const unsigned char* be, unsigned be_len, uint64_t len, F&& f) {
  if (!be || be_len == 0) {
    if (len) f(uint64_t(0), len);
    return;
  }
  uint64_t i = 0;
  while (i < len) {
    while (i < len && !be[i % be_len]) ++i;
    const uint64_t start = i;
    while (i < len && be[i % be_len]) ++i;
    if (i > start) f(start, i - start);
  }
}

}  // namespace hmmsim::common
