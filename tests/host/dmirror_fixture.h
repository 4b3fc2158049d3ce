#pragma once
// Shared fixture of the test-device (lib/test_hmm.c model) unit tests.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "host/test_device/dmirror.h"

using namespace hmmsim::host;

namespace {

constexpr uint64_t P = kPageSize;
constexpr uint64_t M2 = kHugeSize;
constexpr uint64_t kBase = 0x80000000;  // 2 GiB: 2 MiB aligned
constexpr uint32_t kRW = kProtRead | kProtWrite;

inline DmirrorDeviceSpec spec(const char* name, DmirrorKind kind = DmirrorKind::Private, uint64_t chunk_pages = 1024,
                       uint32_t max_chunks = 8) {
  DmirrorDeviceSpec s;
  s.name = name;
  s.kind = kind;
  s.chunk_pages = chunk_pages;
  s.max_chunks = max_chunks;
  return s;
}

// npages of data: the 32-bit word k holds seed * 0x100000 + k.
inline std::vector<uint8_t> pat(uint64_t npages, uint32_t seed) {
  std::vector<uint8_t> v(npages * P);
  for (uint64_t k = 0; k < v.size() / 4; ++k) {
    const uint32_t x = seed * 0x100000u + static_cast<uint32_t>(k);
    std::memcpy(v.data() + 4 * k, &x, 4);
  }
  return v;
}
inline std::vector<uint8_t> zeros(uint64_t npages) { return std::vector<uint8_t>(npages * P, 0); }
inline std::vector<uint8_t> slice(const std::vector<uint8_t>& v, uint64_t first_page, uint64_t npages) {
  return std::vector<uint8_t>(v.begin() + first_page * P, v.begin() + (first_page + npages) * P);
}

// Byte-exact comparison that reports the first difference only.
::testing::AssertionResult same(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i])
      return ::testing::AssertionFailure() << "first difference at byte " << i << " (page " << i / P << "): "
                                           << int(got[i]) << " != " << int(want[i]);
  return ::testing::AssertionSuccess();
}

inline Status fill(AddressSpace& mm, uint64_t va, const std::vector<uint8_t>& data) {
  return mm.cpu_write(va, data.data(), data.size());
}
inline std::vector<uint8_t> cpu(AddressSpace& mm, uint64_t va, uint64_t npages) {
  std::vector<uint8_t> v(npages * P);
  if (mm.cpu_read(va, v.data(), v.size()) != Status::Ok) return {};
  return v;
}
inline std::vector<uint64_t> keys(const Dmirror& m) {
  std::vector<uint64_t> out;
  for (const auto& [vpn, e] : m.page_table()) out.push_back(vpn << kPageShift);
  return out;
}
inline const Dmirror::Entry* entry(const Dmirror& m, uint64_t va) {
  auto it = m.page_table().find(va >> kPageShift);
  return it == m.page_table().end() ? nullptr : &it->second;
}

class DmirrorTest : public ::testing::Test {
 protected:
  DmirrorTest() : sys(8192), mm(sys), dev(sys, spec("dmirror0")), fd(dev.open(mm)) {}
  ~DmirrorTest() override {
    fd.reset();  // close: evicts the device's pages
    mm.exit();   // while the device still exists
  }
  DmirrorResult run(Dmirror& m, DmirrorCmd c, uint64_t addr, uint64_t npages) { return m.run(c, addr, npages, buf); }
  DmirrorResult run(DmirrorCmd c, uint64_t addr, uint64_t npages) { return run(*fd, c, addr, npages); }
  // An aligned 2 MiB THP VMA at kBase (MADV_HUGEPAGE), filled with `data`.
  void thp_region(const std::vector<uint8_t>& data) {
    ASSERT_EQ(mm.mmap_fixed(kBase, 2 * M2, kRW, VmaKind::AnonPrivate), Status::Ok);
    ASSERT_EQ(mm.madvise(kBase, M2, Advice::Hugepage), Status::Ok);
    ASSERT_EQ(fill(mm, kBase, data), Status::Ok);
    ASSERT_TRUE(mm.pte(kBase).pmd);
  }

  HostSystem sys;
  AddressSpace mm;
  DmirrorDevice dev;
  std::unique_ptr<Dmirror> fd;
  std::vector<uint8_t> buf;
};

class DmirrorIoctl : public DmirrorTest {};
class DmirrorRead : public DmirrorTest {};
class DmirrorWrite : public DmirrorTest {};
class DmirrorMigrate : public DmirrorTest {};
class DmirrorSnapshot : public DmirrorTest {};
class DmirrorExclusive : public DmirrorTest {};
class DmirrorInvalidate : public DmirrorTest {};
class DmirrorFailAlloc : public DmirrorTest {};
class DmirrorRelease : public DmirrorTest {};
class DmirrorClose : public DmirrorTest {};
class DmirrorFork : public DmirrorTest {};
class DmirrorOdp : public DmirrorTest {};

}  // namespace
