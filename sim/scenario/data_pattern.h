#pragma once
// Data patterns of scenario scripts, after hmm-tests.c: int[k] = k over a
// buffer ("index"), its negation, constants, byte fills. Offsets are from
// the start of the named buffer, so a pattern means the same thing in a
// CPU write, a device write and an expectation on any sub-range.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/config_reader.h"

namespace hmmsim::sim {

struct DataPattern {
  enum class Kind : uint8_t { Index, Neg, IndexPlus, Const, Fill } kind = Kind::Index;
  int64_t value = 0;
  // Bytes of [buf_offset, buf_offset + len) of the pattern.
  void render(uint64_t buf_offset, uint8_t* dst, uint64_t len) const;
  std::string describe() const;
};

// A pattern is a word ("index", "neg", "zero") or a one-key map:
// {index_plus: c}, {const: v} (32-bit words), {fill: b} (bytes).
DataPattern parse_pattern(ConfigReader& r, const std::string& key);

// An expected content: one pattern for the whole range, or a list of
// segments [{pages: n, pattern: p}, ...] covering it in order.
struct DataExpect {
  struct Segment {
    uint64_t pages;  // UINT64_MAX: to the end
    DataPattern pattern;
  };
  std::vector<Segment> segments;
  bool empty() const { return segments.empty(); }
  uint64_t covered() const;  // pages the segments cover (UINT64_MAX: to the end)
  // Renders the expectation for buffer pages [first_page, first_page + pages).
  std::vector<uint8_t> render(uint64_t first_page, uint64_t pages) const;
};
DataExpect parse_data_expect(ConfigReader& r, const std::string& key);

}  // namespace hmmsim::sim
