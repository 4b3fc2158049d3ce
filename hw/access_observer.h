#pragma once
// Side channel for checkers: the SMs report every completed line access with
// its data, so a data oracle can check it without sitting inside the model.
#include <cstdint>

namespace hmmsim::hw {

struct IAccessObserver {
  virtual ~IAccessObserver() = default;
  // A load returned `len` bytes at `va`.
  virtual void on_load(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, uint32_t len) = 0;
  // A store wrote the bytes of `data` whose `enable` byte is non-zero.
  virtual void on_store(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, const uint8_t* enable,
                        uint32_t len) = 0;
  // A warp was killed by a fatal (cancelled) fault.
  virtual void on_fatal(unsigned sm, unsigned warp, uint64_t va, uint64_t time_ps) = 0;
};

}  // namespace hmmsim::hw
