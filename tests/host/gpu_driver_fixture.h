#pragma once
// Shared fixture of the GPU driver tests: a driver over the in-memory FakeDeviceBus.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "fake_device_bus.h"
#include "host/gpu_driver/gpu_driver.h"
#include "host/test_device/dmirror.h"

using namespace hmmsim::host;
using hmmsim::test::FakeDeviceBus;
using hmmsim::hwref::AccessType;
using hmmsim::hwref::CeDir;
namespace bar0 = hmmsim::hwref::bar0;
namespace pt = hmmsim::hwref::pt;

namespace {

constexpr uint64_t P = kPageSize;
constexpr uint64_t kBlock = 2ull << 20;
constexpr uint64_t kBase = 0x100000000;  // 4 GiB, 2 MiB aligned
constexpr uint64_t kRegion = 64ull << 20;  // every test maps inside [kBase, kBase + kRegion)
constexpr uint64_t kMsi = 0xFEE00000;

// A non-recursive lock, like the SystemC mutex the simulator supplies:
// taking it twice in one context would deadlock there.
struct CheckingLock : ILock {
  int depth = 0;
  int acquisitions = 0;
  void lock() override {
    if (depth != 0) ADD_FAILURE() << "driver lock taken recursively (would deadlock)";
    ++depth;
    ++acquisitions;
  }
  void unlock() override {
    if (depth != 1) ADD_FAILURE() << "driver lock released while not held";
    --depth;
  }
};

inline std::vector<uint8_t> pattern(uint8_t seed) {
  std::vector<uint8_t> v(P);
  for (uint64_t i = 0; i < P; ++i) v[i] = static_cast<uint8_t>(seed * 37 + i * 5 + (i >> 7) + 1);
  return v;
}

// The pipeline as these tests knew it before the policy families: no
// prefetching, no thrashing response, a replay after each batch without a
// fault-buffer flush, each page in a frame of its own (4 KiB chunks). Policy behaviour has tests of its own
// (test_policy_contracts.cpp, test_eviction_policy.cpp, test_policies.cpp).
inline DriverSpec unit_spec() {
  DriverSpec s;
  s.prefetch.impl = "none";
  s.thrashing.impl = "none";
  s.replay.impl = "batch";
  s.vram_chunk_bytes = 4096;
  return s;
}

struct Rig {
  explicit Rig(DriverSpec spec = unit_spec(), uint64_t vram = 16ull << 20, uint64_t frames = 2048)
      : sys(frames), bus(sys.phys, vram) {
    drv = std::make_unique<GpuDriver>(sys, bus, lock, spec, vram);
    mm = std::make_unique<AddressSpace>(sys);
  }
  ~Rig() {
    // Unmap first so no device page outlives the driver, then detach the
    // driver (its destructor unregisters from the live mm), then the mm.
    mm->munmap(kBase, kRegion);
    EXPECT_EQ(lock.depth, 0);
    drv.reset();
    mm.reset();
  }
  bool start() {
    if (drv->init(kMsi) != Status::Ok) return false;
    drv->attach(*mm);
    return true;
  }

  static uint64_t va(uint64_t page) { return kBase + page * P; }
  void map(uint64_t first, uint64_t npages, uint32_t prot = kProtRead | kProtWrite) {
    ASSERT_EQ(mm->mmap_fixed(va(first), npages * P, prot, VmaKind::AnonPrivate), Status::Ok);
  }
  Pfn fill(uint64_t page, uint8_t seed) {
    const auto d = pattern(seed);
    EXPECT_EQ(mm->cpu_write(va(page), d.data(), P), Status::Ok);
    return mm->pte(va(page)).pfn;
  }
  std::vector<uint8_t> cpu_page(uint64_t page) {
    std::vector<uint8_t> d(P, 0xEE);
    EXPECT_EQ(mm->cpu_read(va(page), d.data(), P), Status::Ok);
    return d;
  }
  std::vector<uint8_t> vram_page(uint64_t vram_pa) const {
    return std::vector<uint8_t>(bus.vram_data(vram_pa), bus.vram_data(vram_pa) + P);
  }
  std::vector<uint8_t> host_page(Pfn pfn) const {
    std::vector<uint8_t> d(P);
    sys.phys.read(pfn, 0, d.data(), P);
    return d;
  }
  void fault(uint64_t page, AccessType a = AccessType::Read, uint16_t sm = 0) {
    ASSERT_TRUE(bus.push_fault(va(page), a, sm));
  }
  // The device-private pfn that names VRAM frame `vram_pa`.
  Pfn devpfn(uint64_t vram_pa) const { return DevicePagemaps::kDeviceBase + (vram_pa >> 12); }
  uint64_t ce_bytes(CeDir dir) const {
    uint64_t n = 0;
    for (const auto& c : bus.ce_log)
      if (c.dir == dir) n += c.len;
    return n;
  }

  HostSystem sys;
  FakeDeviceBus bus;
  CheckingLock lock;
  std::unique_ptr<GpuDriver> drv;
  std::unique_ptr<AddressSpace> mm;
};

const std::vector<uint8_t> kZeroPage(P, 0);

}  // namespace
