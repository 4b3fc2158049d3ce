#pragma once
// Shared fixture of the address-space operation tests (test_mm_ops*.cpp).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <tuple>
#include <vector>

#include "host/hmm/migrate.h"
#include "host/mm/address_space.h"
#include "test_device_memory.h"

using namespace hmmsim::host;

namespace {

constexpr uint64_t P = kPageSize;
constexpr uint64_t M2 = kHugeSize;
constexpr uint64_t kBase = 0x40000000;  // 1 GiB: 2 MiB aligned
constexpr uint32_t kRW = kProtRead | kProtWrite;

// One notifier call as the mirrors saw it.
struct Ev {
  uint64_t start, end;
  NotifyEvent event;
  const void* owner;
};
bool operator==(const Ev& a, const Ev& b) {
  return a.start == b.start && a.end == b.end && a.event == b.event && a.owner == b.owner;
}
std::ostream& operator<<(std::ostream& os, const Ev& e) {
  return os << to_string(e.event) << "[0x" << std::hex << e.start << ", 0x" << e.end << ")" << std::dec
            << " owner=" << e.owner;
}
using Evs = std::vector<Ev>;

// Records every invalidation of one address space (whole-range notifier).
// Declare it after the address space it watches.
struct Watch : IMmuIntervalNotifierOps {
  explicit Watch(AddressSpace& m) : mm(m), n(0, ~0ull, this) { mm.notifiers().insert(&n); }
  ~Watch() override { mm.notifiers().remove(&n); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  bool invalidate(MmuIntervalNotifier& nn, const NotifierRange& r, uint64_t seq) override {
    ev.push_back(Ev{r.start, r.end, r.event, r.owner});
    nn.set_seq(seq);
    return true;
  }
  Evs of(NotifyEvent e) const {
    Evs out;
    for (const Ev& x : ev)
      if (x.event == e) out.push_back(x);
    return out;
  }
  AddressSpace& mm;
  MmuIntervalNotifier n;
  Evs ev;
};

using DevMem = hmmsim::testing::TestDeviceMemory;

inline std::vector<uint8_t> page_pattern(uint32_t seed) {
  std::vector<uint8_t> v(P);
  for (uint64_t i = 0; i < P; ++i) v[i] = static_cast<uint8_t>(seed * 37 + i * 11 + (i >> 7) + 1);
  return v;
}
const std::vector<uint8_t> kZeroPage(P, 0);

inline Status fill(AddressSpace& mm, uint64_t va, uint32_t seed) {
  const std::vector<uint8_t> v = page_pattern(seed);
  return mm.cpu_write(va, v.data(), P);
}
// The page at `va` as the CPU reads it (faulting); empty on failure.
inline std::vector<uint8_t> peek(AddressSpace& mm, uint64_t va) {
  std::vector<uint8_t> v(P);
  if (mm.cpu_read(va, v.data(), P) != Status::Ok) return {};
  return v;
}
// A small per-page tag for THP-sized checks.
inline Status tag(AddressSpace& mm, uint64_t va, uint64_t value) { return mm.cpu_write(va, &value, sizeof value); }
inline uint64_t tag_of(AddressSpace& mm, uint64_t va) {
  uint64_t v = ~0ull;
  return mm.cpu_read(va, &v, sizeof v) == Status::Ok ? v : ~0ull;
}

using Span = std::tuple<uint64_t, uint64_t, uint32_t>;  // start, end, prot
inline std::vector<Span> spans(const AddressSpace& mm) {
  std::vector<Span> out;
  for (const auto& [s, v] : mm.vmas()) out.emplace_back(v.start, v.end, v.prot);
  return out;
}
inline std::vector<uint64_t> mapped(const AddressSpace& mm, uint64_t start, uint64_t end) {
  std::vector<uint64_t> out;
  for (const auto& [va, p] : mm.entries(start, end)) out.push_back(va);
  return out;
}

class MmOpsTest : public ::testing::Test {
 protected:
  MmOpsTest() : sys(4096), dev(sys, 64), mm(sys), w(mm) {}
  HostSystem sys;
  DevMem dev;  // outlives every address space that may map its pages
  AddressSpace mm;
  Watch w;
};

class MmOpsMunmap : public MmOpsTest {};
class MmOpsMprotect : public MmOpsTest {};
class MmOpsMremap : public MmOpsTest {};
class MmOpsMadvise : public MmOpsTest {};
class MmOpsFork : public MmOpsTest {};
class MmOpsFile : public MmOpsTest {};
class MmOpsHugetlb : public MmOpsTest {};
class MmOpsExclusive : public MmOpsTest {};

}  // namespace
