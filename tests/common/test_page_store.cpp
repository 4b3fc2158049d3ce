// Tests for common/page_store: contents in each data mode, and pages that
// keep real bytes (page tables, fault rings) whatever the mode.
#include "common/page_store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace hmmsim::common {
namespace {

std::vector<uint8_t> read(const PageStore& s, uint64_t page, uint64_t off, uint64_t len) {
  std::vector<uint8_t> v(len, 0xEE);
  s.read(page, off, v.data(), len);
  return v;
}

std::vector<uint8_t> word_pattern(uint64_t word, uint64_t off, uint64_t len) {
  std::vector<uint8_t> v(len);
  uint8_t w[8];
  std::memcpy(w, &word, 8);
  for (uint64_t i = 0; i < len; ++i) v[i] = w[(off + i) & 7];
  return v;
}

TEST(PageStoreTest, ParsesModeNames) {
  DataMode m = DataMode::Off;
  EXPECT_TRUE(parse_data_mode("tag", m));
  EXPECT_EQ(m, DataMode::Tag);
  EXPECT_FALSE(parse_data_mode("bytes", m));
  EXPECT_STREQ(to_string(DataMode::Full), "full");
}

TEST(PageStoreTest, FullModeKeepsBytesAndCopies) {
  PageStore s(DataMode::Full, 4);
  EXPECT_EQ(read(s, 1, 0, 8), std::vector<uint8_t>(8, 0));
  const uint8_t b[3] = {1, 2, 3};
  s.write(1, 100, b, 3);
  EXPECT_EQ(read(s, 1, 99, 5), (std::vector<uint8_t>{0, 1, 2, 3, 0}));
  s.copy(2, 1);
  EXPECT_EQ(read(s, 2, 100, 3), (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_EQ(s.bytes_held(), 4 * sizeof(void*) + 2 * 4096u);
  s.clear(1);
  EXPECT_EQ(read(s, 1, 100, 3), std::vector<uint8_t>(3, 0));
  EXPECT_EQ(s.bytes_held(), 4 * sizeof(void*) + 4096u);
}

TEST(PageStoreTest, TagModeFoldsWritesIntoOneWordPerPage) {
  PageStore s(DataMode::Tag, 4);
  const auto v = word_pattern(0x0102030405060708ull, 0, 4096);
  s.write(3, 0, v.data(), 4096);
  EXPECT_EQ(read(s, 3, 13, 20), word_pattern(0x0102030405060708ull, 13, 20));
  // A partial, unaligned write of a newer pattern updates only its bytes of the word.
  const auto w = word_pattern(0xAAAAAAAAAAAAAAAAull, 5, 2);
  s.write(3, 5, w.data(), 2);
  EXPECT_EQ(read(s, 3, 0, 8), (std::vector<uint8_t>{8, 7, 6, 5, 4, 0xAA, 0xAA, 1}));
  s.copy(0, 3);
  EXPECT_EQ(read(s, 0, 4088, 8), read(s, 3, 0, 8));
  EXPECT_EQ(s.bytes_held(), 4 * 8u);
}

TEST(PageStoreTest, OffModeReadsZerosAndHoldsNothing) {
  PageStore s(DataMode::Off, 4);
  const uint8_t b[2] = {9, 9};
  s.write(0, 0, b, 2);
  EXPECT_EQ(read(s, 0, 0, 2), std::vector<uint8_t>(2, 0));
  EXPECT_EQ(s.bytes_held(), 0u);
}

TEST(PageStoreTest, KeptPagesHoldRealBytesInEveryMode) {
  for (DataMode m : {DataMode::Tag, DataMode::Off}) {
    PageStore s(m, 4);
    s.keep_bytes(1);
    EXPECT_TRUE(s.keeps_bytes(1));
    const uint8_t pte[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    s.write(1, 64, pte, 8);
    EXPECT_EQ(read(s, 1, 64, 8), std::vector<uint8_t>(pte, pte + 8)) << to_string(m);
    EXPECT_EQ(read(s, 1, 0, 8), std::vector<uint8_t>(8, 0));
    s.clear(1);  // freed: back to the data mode
    EXPECT_FALSE(s.keeps_bytes(1));
    EXPECT_EQ(read(s, 1, 64, 8), std::vector<uint8_t>(8, 0));
  }
}

}  // namespace
}  // namespace hmmsim::common

namespace hmmsim::common {
namespace {

TEST(PageStoreTest, AnyStoreOfAFreshVersionChangesTheTag) {
  // Writers store version_word(v) repeated. Every byte of it depends on all
  // of v, so a store of k bytes changes the page's tag unless k bytes agree
  // by chance (2^-8k): a 4-byte lane at offset 4 changes it too, where the
  // plain (sm << 48 | seq) word left the upper half alone for every store.
  int same_bytes = 0;
  for (uint64_t v = 1; v < 200; ++v) {
    const uint64_t a = version_word(v), b = version_word(v + 1);
    EXPECT_NE(a & 0xffffffffu, b & 0xffffffffu) << v;
    EXPECT_NE(a >> 32, b >> 32) << v;
    for (int i = 0; i < 8; ++i) same_bytes += ((a >> (8 * i)) & 0xff) == ((b >> (8 * i)) & 0xff);
  }
  EXPECT_LT(same_bytes, 20);  // about 1592 / 256 = 6 expected
  PageStore s(DataMode::Tag, 1);
  uint8_t buf[8];
  fill_word_pattern(buf, 0, 8, version_word(7));
  s.write(0, 0, buf, 8);
  fill_word_pattern(buf, 4, 4, version_word(8));  // one 4-byte lane at offset 4
  s.write(0, 4, buf, 4);
  uint8_t back[8];
  s.read(0, 0, back, 8);
  uint8_t old[8];
  fill_word_pattern(old, 0, 8, version_word(7));
  EXPECT_NE(std::memcmp(back, old, 8), 0);
  EXPECT_EQ(std::memcmp(back, old, 4), 0);      // bytes 0-3 keep version 7
  EXPECT_EQ(std::memcmp(back + 4, buf, 4), 0);  // bytes 4-7 are version 8's
}

}  // namespace
}  // namespace hmmsim::common
