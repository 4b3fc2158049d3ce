// Tests for sim/oracle: the expected content of every byte, checks of CPU
// and GPU loads against it, and its bounded list of messages.
#include "sim/oracle.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace hmmsim::sim {
namespace {

constexpr uint64_t kBase = 0x7f0000000000ull;

std::vector<uint8_t> expected_of(const DataOracle& o, uint64_t va, uint64_t len) {
  std::vector<uint8_t> out(len, 0xEE);  // poison: untouched bytes must be overwritten with 0
  o.expected(va, out.data(), len);
  return out;
}

std::vector<uint8_t> ramp(uint64_t len, uint8_t first) {
  std::vector<uint8_t> v(len);
  for (uint64_t i = 0; i < len; ++i) v[i] = static_cast<uint8_t>(first + i);
  return v;
}


TEST(DataOracleTest, UntouchedBytesAreExpectedZero) {
  DataOracle o;
  EXPECT_EQ(expected_of(o, kBase + 123, 10000), std::vector<uint8_t>(10000, 0));
  std::vector<uint8_t> zeros(8192, 0);
  EXPECT_TRUE(o.check(kBase + 4000, zeros.data(), zeros.size(), "cpu"));
  EXPECT_EQ(o.s_checks, 1u);
  EXPECT_EQ(o.s_checked_bytes, 8192u);
  EXPECT_EQ(o.s_mismatches, 0u);
  EXPECT_TRUE(o.messages().empty());
}

TEST(DataOracleTest, WriteAcrossPagesReadsBackAndLeavesNeighboursZero) {
  DataOracle o;
  const uint64_t va = kBase + 4096 - 10;  // 10 bytes in page 0, 4096 in page 1, 14 in page 2
  const std::vector<uint8_t> data = ramp(4120, 1);
  o.wrote(va, data.data(), data.size());
  EXPECT_EQ(expected_of(o, va, data.size()), data);
  EXPECT_TRUE(o.check(va, data.data(), data.size(), "cpu"));
  // A window straddling both ends: zero, then the data, then zero.
  std::vector<uint8_t> window(data.size() + 8, 0);
  std::memcpy(window.data() + 4, data.data(), data.size());
  EXPECT_EQ(expected_of(o, va - 4, window.size()), window);
  EXPECT_TRUE(o.check(va - 4, window.data(), window.size(), "cpu"));
  // Start of page 0 and end of page 2 stay zero.
  EXPECT_EQ(expected_of(o, kBase, 4086), std::vector<uint8_t>(4086, 0));
  EXPECT_EQ(expected_of(o, va + 4120, 8192 - 14), std::vector<uint8_t>(8192 - 14, 0));
  EXPECT_EQ(o.s_mismatches, 0u);
  EXPECT_EQ(o.s_checks, 2u);
  EXPECT_EQ(o.s_checked_bytes, 4120u + 4128u);
}

TEST(DataOracleTest, LaterWritesOverwriteOnlyTheirBytes) {
  DataOracle o;
  const std::vector<uint8_t> a = ramp(64, 0x10);
  o.wrote(kBase + 4064, a.data(), a.size());  // 32 bytes on each side of a page boundary
  const uint8_t b[3] = {0xAA, 0xBB, 0xCC};
  o.wrote(kBase + 4095, b, 3);
  std::vector<uint8_t> want = a;
  want[31] = 0xAA;
  want[32] = 0xBB;
  want[33] = 0xCC;
  EXPECT_EQ(expected_of(o, kBase + 4064, 64), want);
}

TEST(DataOracleTest, MismatchNamesFirstDifferingVaAndBothBytes) {
  DataOracle o;
  const std::vector<uint8_t> data = ramp(16, 0x20);
  o.wrote(kBase + 0xff8, data.data(), data.size());  // crosses into the next page
  std::vector<uint8_t> read = data;
  read[9] = 0xAB;   // va kBase + 0x1001: first difference
  read[12] = 0x00;  // a later one is not reported
  EXPECT_FALSE(o.check(kBase + 0xff8, read.data(), read.size(), "cpu readback"));
  EXPECT_EQ(o.s_mismatches, 1u);
  EXPECT_EQ(o.s_checks, 1u);
  EXPECT_EQ(o.s_checked_bytes, 16u);
  ASSERT_EQ(o.messages().size(), 1u);
  EXPECT_EQ(o.messages()[0],
            "cpu readback: data mismatch at va 0x7f0000001001: expected 0x29, read 0xab");
}

TEST(DataOracleTest, MismatchOnUntouchedMemoryExpectsZero) {
  DataOracle o;
  const uint8_t read[4] = {0, 0, 0, 0x5};
  EXPECT_FALSE(o.check(kBase + 0x2000, read, 4, "cpu"));
  ASSERT_EQ(o.messages().size(), 1u);
  EXPECT_EQ(o.messages()[0], "cpu: data mismatch at va 0x7f0000002003: expected 0x0, read 0x5");
  // A failed check does not change the expectation.
  EXPECT_EQ(expected_of(o, kBase + 0x2000, 4), std::vector<uint8_t>(4, 0));
}

TEST(DataOracleTest, GpuStoreUpdatesExpectationAndLaterLoadPasses) {
  DataOracle o;
  const std::vector<uint8_t> stored = ramp(128, 0x40);
  o.on_store(1, 3, kBase + 0x1000 + 256, stored.data(), nullptr, 128);
  EXPECT_EQ(o.s_checks, 0u);  // a store is not a check
  EXPECT_EQ(expected_of(o, kBase + 0x1000 + 256, 128), stored);

  o.on_load(0, 2, kBase + 0x1000 + 256, stored.data(), 128);
  EXPECT_EQ(o.s_checks, 1u);
  EXPECT_EQ(o.s_checked_bytes, 128u);
  EXPECT_EQ(o.s_mismatches, 0u);
  EXPECT_TRUE(o.messages().empty());

  // A stale load (the old zeros) is caught and names the loading warp.
  const std::vector<uint8_t> stale(128, 0);
  o.on_load(1, 3, kBase + 0x1000 + 256, stale.data(), 128);
  EXPECT_EQ(o.s_mismatches, 1u);
  ASSERT_EQ(o.messages().size(), 1u);
  EXPECT_EQ(o.messages()[0], "gpu sm1 warp3: data mismatch at va 0x7f0000001100: expected 0x40, read 0x0");
}

TEST(DataOracleTest, StoreWritesOnlyEnabledBytes) {
  DataOracle o;
  o.wrote(kBase, ramp(16, 1).data(), 16);
  const std::vector<uint8_t> data(16, 0xAB);
  std::vector<uint8_t> enable(16, 0);
  enable[2] = enable[3] = enable[9] = 0xff;  // a scattered store: lanes 2-3 and 9
  o.on_store(0, 0, kBase, data.data(), enable.data(), 16);
  std::vector<uint8_t> want = ramp(16, 1);
  want[2] = want[3] = want[9] = 0xAB;
  EXPECT_EQ(expected_of(o, kBase, 16), want);
}

TEST(DataOracleTest, TagModeKeepsOneWordPerPageRepeated) {
  DataOracle o(common::DataMode::Tag);
  std::vector<uint8_t> page(4096);
  DataOracle::fill_version(page.data(), kBase, 4096, 0x1122334455667788ull);
  o.wrote(kBase, page.data(), 4096);
  EXPECT_EQ(o.pages_tracked(), 1u);
  // Any range reads as the word repeated, aligned to the address.
  std::vector<uint8_t> want(5);
  DataOracle::fill_version(want.data(), kBase + 0x13, 5, 0x1122334455667788ull);
  EXPECT_EQ(expected_of(o, kBase + 0x13, 5), want);
  EXPECT_EQ(want[0], 0x55);  // byte 3 of the little-endian word
  EXPECT_TRUE(o.check(kBase + 0x13, want.data(), 5, "cpu"));
  // A newer version written to part of the page is the page's version now.
  std::vector<uint8_t> v2(128);
  DataOracle::fill_version(v2.data(), kBase + 256, 128, 42);
  o.on_store(0, 0, kBase + 256, v2.data(), nullptr, 128);
  std::vector<uint8_t> old(8);
  DataOracle::fill_version(old.data(), kBase + 2048, 8, 0x1122334455667788ull);
  EXPECT_FALSE(o.check(kBase + 2048, old.data(), 8, "stale"));
  EXPECT_EQ(o.s_mismatches, 1u);
  // Untouched pages are version 0: zeros, as in full mode.
  EXPECT_EQ(expected_of(o, kBase + 0x5000, 16), std::vector<uint8_t>(16, 0));
}

TEST(DataOracleTest, OffModeChecksNothing) {
  DataOracle o(common::DataMode::Off);
  const uint8_t one = 1;
  o.wrote(kBase, &one, 1);
  EXPECT_TRUE(o.check(kBase, &one, 1, "cpu"));
  o.on_load(0, 0, kBase, &one, 1);
  EXPECT_EQ(o.s_checks, 0u);
  EXPECT_EQ(o.pages_tracked(), 0u);
}

TEST(DataOracleTest, FatalFaultIsCountedAndRecorded) {
  DataOracle o;
  o.on_fatal(1, 2, kBase + 0x600000, 12345);
  EXPECT_EQ(o.s_gpu_fatal, 1u);
  EXPECT_EQ(o.s_mismatches, 0u);
  ASSERT_EQ(o.messages().size(), 1u);
  EXPECT_EQ(o.messages()[0], "gpu sm1 warp2: fatal fault at va 0x7f0000600000");
  o.on_fatal(0, 0, 0x1000, 0);
  EXPECT_EQ(o.s_gpu_fatal, 2u);
  ASSERT_EQ(o.messages().size(), 2u);
  EXPECT_EQ(o.messages()[1], "gpu sm0 warp0: fatal fault at va 0x1000");
}

TEST(DataOracleTest, MessagesAreCappedAtTwentyButCountsAreNot) {
  DataOracle o;
  const uint8_t one = 1;
  for (uint64_t i = 0; i < 25; ++i) EXPECT_FALSE(o.check(kBase + i, &one, 1, "cpu"));
  for (unsigned i = 0; i < 3; ++i) o.on_fatal(0, i, kBase, 0);
  EXPECT_EQ(o.s_mismatches, 25u);
  EXPECT_EQ(o.s_gpu_fatal, 3u);
  EXPECT_EQ(o.s_checks, 25u);
  ASSERT_EQ(o.messages().size(), 20u);
  // The first twenty are kept, in order.
  EXPECT_EQ(o.messages().front(), "cpu: data mismatch at va 0x7f0000000000: expected 0x0, read 0x1");
  EXPECT_EQ(o.messages().back(), "cpu: data mismatch at va 0x7f0000000013: expected 0x0, read 0x1");
}

}  // namespace
}  // namespace hmmsim::sim
