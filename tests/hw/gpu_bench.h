#pragma once
// A Gpu with a test initiator on BAR0/BAR1 (the driver's side) and a
// stand-in host on its upstream socket that serves system memory and
// records MSIs. Shared by the GPU-level hw tests.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "hw/gpu.h"
#include "hwref/gpu_regs.h"
#include "tests/hw/sc_test_support.h"

namespace hmmsim::sctest {

using hw::Gpu;
using hw::GpuSpec;
using hwref::CeDir;
using sc_core::sc_time;
namespace bar0 = hwref::bar0;

constexpr uint64_t kMsi = 0xFEE00000;
constexpr uint64_t kHostMem = 4 << 20;

inline GpuSpec small_gpu() {
  GpuSpec s;
  s.sms = 1;
  return s;
}

struct Bench {
  explicit Bench(const GpuSpec& s = small_gpu())
      : spec(s), gpu("gpu", spec), drv("drv"), host("host", kHostMem, kMsi) {
    drv.socket.bind(gpu.bar_socket);
    gpu.host_socket.bind(host.socket);
  }

  // Register access from the driver thread; the thread waits out the latency.
  void w32(uint64_t off, uint32_t v) {
    sc_time d = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(drv.write(hmmsim::hwref::kBar0Base + off, &v, 4, d), tlm::TLM_OK_RESPONSE) << off;
    sc_core::wait(d);
  }
  void w64(uint64_t lo, uint64_t v) {
    w32(lo, static_cast<uint32_t>(v));
    w32(lo + 4, static_cast<uint32_t>(v >> 32));
  }
  uint32_t r32(uint64_t off) {
    uint32_t v = 0xDEADBEEF;
    sc_time d = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(drv.read(hmmsim::hwref::kBar0Base + off, &v, 4, d), tlm::TLM_OK_RESPONSE) << off;
    sc_core::wait(d);
    return v;
  }
  // Programs a descriptor and rings the doorbell; returns the doorbell time.
  uint64_t copy(uint64_t src, uint64_t dst, uint32_t len, CeDir dir, uint32_t seq) {
    w64(bar0::kCeSrcLo, src);
    w64(bar0::kCeDstLo, dst);
    w32(bar0::kCeLen, len);
    w32(bar0::kCeDir, static_cast<uint32_t>(dir));
    const uint64_t t = now_ps();
    w32(bar0::kCeDoorbell, seq);
    return t;
  }
  void wait_msis(size_t n) {
    while (host.msis.size() < n) sc_core::wait(host.msi_event);
  }
  std::vector<uint8_t> vram(uint64_t pa, size_t n) {
    std::vector<uint8_t> v(n);
    gpu.vram().core().read(pa, v.data(), n);
    return v;
  }

  const GpuSpec spec;
  Gpu gpu;
  Initiator drv;
  HostTarget host;
};

inline std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  return v;
}


}  // namespace hmmsim::sctest
