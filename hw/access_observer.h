#pragma once
// Side channel for checkers: the SMs report every completed access with its
// data, so a data oracle can check it without sitting inside the model.
#include <cstdint>

namespace hmmsim::hw {

struct WarpOp {
  uint64_t va = 0;
  uint32_t bytes = 0;  // within one 4 KiB page
  bool write = false;
  uint32_t value = 0;       // writes store 32-bit words value + i * stride, lane i
  uint32_t stride = 1;
  uint32_t gap_cycles = 0;  // compute before the next instruction
};

struct IAccessObserver {
  virtual ~IAccessObserver() = default;
  // A load returned `data` (op.bytes long) or a store of op's words completed.
  virtual void on_access(unsigned sm, unsigned warp, const WarpOp& op, const uint8_t* data,
                         uint64_t time_ps) = 0;
  // A warp was killed by a fatal (cancelled) fault.
  virtual void on_fatal(unsigned sm, unsigned warp, uint64_t va, uint64_t time_ps) = 0;
};

}  // namespace hmmsim::hw
