// The host's memory in `tag` data mode: one version word per page, carried by
// copy-on-write after fork and dropped by MADV_DONTNEED, as real bytes would be.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "host/mm/address_space.h"
#include "host/mm/device_pagemap.h"

namespace hmmsim::host {
namespace {

constexpr uint64_t kBase = 0x7f0000000000ull, P = 4096;

std::vector<uint8_t> version_page(uint64_t v) {
  std::vector<uint8_t> p(P);
  for (uint64_t i = 0; i < P; ++i) p[i] = static_cast<uint8_t>(v >> (8 * (i & 7)));
  return p;
}

std::vector<uint8_t> read(AddressSpace& mm, uint64_t va) {
  std::vector<uint8_t> p(P);
  EXPECT_EQ(mm.cpu_read(va, p.data(), P), Status::Ok);
  return p;
}

TEST(TagMode, CopyOnWriteCarriesTheVersionAndKeepsTheParents) {
  HostSystem sys(64, common::DataMode::Tag);
  AddressSpace mm(sys);
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.cpu_write(kBase, version_page(0xA1).data(), P), Status::Ok);
  ASSERT_EQ(mm.cpu_write(kBase + P, version_page(0xB2).data(), P), Status::Ok);
  auto child = mm.fork();
  EXPECT_EQ(read(*child, kBase), version_page(0xA1));  // shared after fork
  // A partial write (one 8-byte word of a new version) copies the page first.
  const auto v = version_page(0xC3);
  ASSERT_EQ(child->cpu_write(kBase + 64, v.data() + 64, 8), Status::Ok);
  EXPECT_EQ(child->s_cow_copies, 1u);
  EXPECT_EQ(read(*child, kBase), version_page(0xC3));
  EXPECT_EQ(read(mm, kBase), version_page(0xA1));      // the parent's version is untouched
  EXPECT_EQ(read(*child, kBase + P), version_page(0xB2));
  // The store holds 8 bytes per frame, not pages of bytes.
  EXPECT_EQ(sys.phys.data_bytes(), 64u * 8);
}

TEST(TagMode, DontNeedDropsTheVersion) {
  HostSystem sys(16, common::DataMode::Tag);
  AddressSpace mm(sys);
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.cpu_write(kBase, version_page(0x77).data(), P), Status::Ok);
  ASSERT_EQ(mm.madvise(kBase, P, Advice::DontNeed), Status::Ok);
  EXPECT_EQ(read(mm, kBase), std::vector<uint8_t>(P, 0));
}

TEST(TagMode, DeviceRingsKeepRealBytes) {
  HostSystem sys(16, common::DataMode::Tag);
  const Pfn ring = sys.phys.alloc_contiguous(2);
  ASSERT_NE(ring, kNoPfn);
  uint8_t entry[16];  // not a repeated word: only real bytes keep it
  for (int i = 0; i < 16; ++i) entry[i] = static_cast<uint8_t>(i + 1);
  sys.phys.write(ring + 1, 96, entry, 16);
  uint8_t back[16] = {};
  sys.phys.read(ring + 1, 96, back, 16);
  EXPECT_EQ(std::memcmp(back, entry, 16), 0);
  sys.phys.put(ring + 1);  // freed: an ordinary frame again
  const Pfn f = sys.phys.alloc();
  EXPECT_EQ(f, ring + 1);
  sys.phys.write(f, 96, entry, 16);
  sys.phys.read(f, 96, back, 16);
  EXPECT_NE(std::memcmp(back, entry, 16), 0);  // folded into the page's version word
  EXPECT_EQ(std::memcmp(back, entry, 8), 0);
  EXPECT_EQ(std::memcmp(back + 8, entry, 8), 0);
}

}  // namespace
}  // namespace hmmsim::host
