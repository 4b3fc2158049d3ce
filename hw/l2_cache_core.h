#pragma once
// L2 data cache tag state: sectored lines, set-associative, LRU, write-back
// with write-allocate. It decides which sectors of an access hit, which must
// come from DRAM and which dirty sectors an eviction writes back; it holds
// no data (VRAM always has the bytes, see hw/l2_cache.h). Plain C++.
//
// Writes allocate without fetching ("lazy fetch on read", as Accel-Sim
// models Volta's L2): the line records which bytes were written, a read
// whose bytes were all written hits, and a read needing other bytes of a
// partly written sector fetches that sector. A fully written sector is
// valid without any fetch. So scattered warp stores cost no DRAM reads.
#include <cstdint>
#include <optional>
#include <vector>

#include "common/registry.h"

namespace hmmsim::hw {

struct L2CacheSpec {
  bool enabled = false;              // off: the wrapper passes everything straight to VRAM
  uint64_t size_bytes = 6ull << 20;  // V100: 64 slices x 96 KiB (Accel-Sim SM7_QV100)
  uint32_t ways = 24;
  uint32_t line_bytes = 128;
  uint32_t sector_bytes = 32;
  double clock_mhz = 1400;
  uint32_t hit_cycles = 20;  // tag + data array only: this model has no SM-to-L2 network

  // Impossible geometry or timing: the key and why; nullopt if usable.
  std::optional<common::SpecError> validate() const;
  uint64_t sets() const { return size_bytes / (uint64_t(ways) * line_bytes); }
  double hit_ns() const { return hit_cycles * 1000.0 / clock_mhz; }
};

// A DRAM transfer the cache needs: `bytes` at `pa`, whole sectors of one line.
struct L2Run {
  uint64_t pa;
  uint32_t bytes;
};

// What one access did. Sectors of a line that was not present count as a
// line miss only, not as sector misses.
struct L2Outcome {
  uint32_t sector_hits = 0, sector_misses = 0, line_misses = 0;
  std::vector<L2Run> fetch;      // DRAM reads before the data is ready
  std::vector<L2Run> writeback;  // dirty sectors of the lines this access evicted
  bool hit() const { return fetch.empty(); }
};

class L2CacheCore {
 public:
  // Throws std::invalid_argument when spec.validate() fails.
  explicit L2CacheCore(const L2CacheSpec& spec);
  const L2CacheSpec& spec() const { return m_spec; }

  // Looks up [pa, pa + len), allocating missing lines (LRU victim) and
  // updating sector state. `be` is a TLM byte-enable pattern (byte i is
  // written when be[i % be_len] != 0; null = all), used for writes only. A
  // write with no enabled byte touches nothing. The result stays valid until
  // the next call.
  const L2Outcome& access(uint64_t pa, uint64_t len, bool write, const uint8_t* be = nullptr,
                          unsigned be_len = 0);
  // Writes back every dirty sector; the lines stay allocated, now clean.
  const std::vector<L2Run>& flush();
  // Drops every line overlapping [pa, pa + len). Dirty sectors are returned
  // for writing back if `writeback`, else discarded (counted).
  const std::vector<L2Run>& invalidate_range(uint64_t pa, uint64_t len, bool writeback);
  void invalidate_all();

  // Inspection for tests and checkers; no LRU update.
  bool present(uint64_t pa) const { return find(pa / m_spec.line_bytes) >= 0; }
  bool sector_valid(uint64_t pa) const;  // readable without a fetch (fetched or fully written)
  bool sector_dirty(uint64_t pa) const;

  uint64_t s_reads = 0, s_writes = 0, s_read_misses = 0;  // read_misses: reads that waited for DRAM
  uint64_t s_sector_hits = 0, s_sector_misses = 0, s_line_misses = 0;
  uint64_t s_evictions = 0, s_writebacks = 0;  // writebacks: dirty lines written back
  uint64_t s_bytes_from_dram = 0, s_bytes_to_dram = 0;
  uint64_t s_invalidated_lines = 0, s_dirty_discarded = 0;  // sectors dropped without writeback

 private:
  struct Line {
    uint64_t line_no = 0;
    uint64_t lru = 0;    // larger = more recent
    uint32_t valid = 0;  // sectors readable as a whole
    uint32_t dirty = 0;
    bool used = false;
  };
  int64_t find(uint64_t line_no) const;  // index into m_lines, -1 if absent
  uint64_t* written(size_t idx) { return &m_written[idx * m_words]; }
  const uint64_t* written(size_t idx) const { return &m_written[idx * m_words]; }
  void access_line(uint64_t line_no, unsigned lo, unsigned hi, uint64_t req_pa, bool write, const uint8_t* be,
                   unsigned be_len);
  // Appends runs of the sectors in `mask` of line `line_no` to `out`.
  void runs(uint64_t line_no, uint32_t mask, std::vector<L2Run>& out) const;
  void write_back(Line& l, std::vector<L2Run>& out);
  bool any_bits(const uint64_t* bits, unsigned lo, unsigned hi) const;
  bool all_bits(const uint64_t* bits, unsigned lo, unsigned hi) const;
  bool covers(const uint64_t* have, const uint64_t* need, unsigned lo, unsigned hi) const;

  const L2CacheSpec m_spec;
  const uint64_t m_sets;
  const unsigned m_sectors;  // per line
  const unsigned m_words;    // 64-bit words of byte bitmap per line
  std::vector<Line> m_lines;       // set-major: set * ways + way
  std::vector<uint64_t> m_written;  // per line: bytes written since allocation
  std::vector<uint64_t> m_need;     // scratch: bytes the current access touches in a line
  uint64_t m_tick = 0;
  L2Outcome m_out;
  std::vector<L2Run> m_runs;
};

}  // namespace hmmsim::hw
