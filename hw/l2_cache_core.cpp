#include "hw/l2_cache_core.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/bits.h"

namespace hmmsim::hw {

namespace {

bool pow2(uint64_t v) { return v && !(v & (v - 1)); }

// Bits of bitmap word i (bytes 64i .. 64i+63) that lie in [lo, hi).
uint64_t word_mask(unsigned i, unsigned lo, unsigned hi) {
  const unsigned b0 = std::max(lo, i * 64), b1 = std::min(hi, i * 64 + 64);
  if (b0 >= b1) return 0;
  const unsigned n = b1 - b0;
  return (n == 64 ? ~0ull : (1ull << n) - 1) << (b0 - i * 64);
}

}  // namespace

std::optional<common::SpecError> L2CacheSpec::validate() const {
  if (!pow2(sector_bytes) || sector_bytes < 4)
    return common::SpecError{"sector", "must be a power of two of at least 4"};
  if (!pow2(line_bytes) || line_bytes < sector_bytes || line_bytes > 4096)
    return common::SpecError{"line", "must be a power of two between sector_bytes and 4096"};
  if (line_bytes / sector_bytes > 32) return common::SpecError{"sector", "at most 32 sectors per line"};
  if (ways == 0) return common::SpecError{"ways", "must be at least 1"};
  if (size_bytes == 0 || size_bytes % (uint64_t(ways) * line_bytes))
    return common::SpecError{"size", "must be a non-zero multiple of ways x line_bytes (" +
                                               std::to_string(uint64_t(ways) * line_bytes) + ")"};
  if (!(clock_mhz > 0)) return common::SpecError{"clock_mhz", "must be positive"};
  return std::nullopt;
}

static const L2CacheSpec& checked(const L2CacheSpec& s) {
  if (auto e = s.validate()) throw std::invalid_argument("l2." + e->key + ": " + e->message);
  return s;
}

L2CacheCore::L2CacheCore(const L2CacheSpec& spec)
    : m_spec(checked(spec)),
      m_sets(spec.sets()),
      m_sectors(spec.line_bytes / spec.sector_bytes),
      m_words((spec.line_bytes + 63) / 64),
      m_lines(m_sets * spec.ways),
      m_written(m_lines.size() * m_words, 0),
      m_need(m_words, 0) {}

int64_t L2CacheCore::find(uint64_t line_no) const {
  const size_t base = (line_no % m_sets) * m_spec.ways;
  for (size_t i = base; i < base + m_spec.ways; ++i)
    if (m_lines[i].used && m_lines[i].line_no == line_no) return static_cast<int64_t>(i);
  return -1;
}

bool L2CacheCore::any_bits(const uint64_t* bits, unsigned lo, unsigned hi) const {
  for (unsigned w = lo / 64; w * 64 < hi; ++w)
    if (bits[w] & word_mask(w, lo, hi)) return true;
  return false;
}

bool L2CacheCore::all_bits(const uint64_t* bits, unsigned lo, unsigned hi) const {
  for (unsigned w = lo / 64; w * 64 < hi; ++w)
    if (~bits[w] & word_mask(w, lo, hi)) return false;
  return true;
}

bool L2CacheCore::covers(const uint64_t* have, const uint64_t* need, unsigned lo, unsigned hi) const {
  for (unsigned w = lo / 64; w * 64 < hi; ++w)
    if (need[w] & ~have[w] & word_mask(w, lo, hi)) return false;
  return true;
}

void L2CacheCore::runs(uint64_t line_no, uint32_t mask, std::vector<L2Run>& out) const {
  const uint32_t sb = m_spec.sector_bytes;
  for (unsigned s = 0; s < m_sectors;) {
    if (!(mask >> s & 1)) {
      ++s;
      continue;
    }
    unsigned e = s;
    while (e < m_sectors && (mask >> e & 1)) ++e;
    out.push_back({line_no * m_spec.line_bytes + uint64_t(s) * sb, (e - s) * sb});
    s = e;
  }
}

void L2CacheCore::write_back(Line& l, std::vector<L2Run>& out) {
  if (!l.dirty) return;
  ++s_writebacks;
  s_bytes_to_dram += uint64_t(common::popcount32(l.dirty)) * m_spec.sector_bytes;
  runs(l.line_no, l.dirty, out);
  l.dirty = 0;
}

const L2Outcome& L2CacheCore::access(uint64_t pa, uint64_t len, bool write, const uint8_t* be, unsigned be_len) {
  m_out.sector_hits = m_out.sector_misses = m_out.line_misses = 0;
  m_out.fetch.clear();
  m_out.writeback.clear();
  ++(write ? s_writes : s_reads);
  const uint64_t lb = m_spec.line_bytes;
  for (uint64_t a = pa; a < pa + len;) {
    const uint64_t line_no = a / lb, lo = a % lb, hi = std::min<uint64_t>(lb, lo + (pa + len - a));
    access_line(line_no, static_cast<unsigned>(lo), static_cast<unsigned>(hi), pa, write, be, be_len);
    a += hi - lo;
  }
  if (!write && !m_out.fetch.empty()) ++s_read_misses;
  s_sector_hits += m_out.sector_hits;
  s_sector_misses += m_out.sector_misses;
  s_line_misses += m_out.line_misses;
  return m_out;
}

void L2CacheCore::access_line(uint64_t line_no, unsigned lo, unsigned hi, uint64_t req_pa, bool write,
                              const uint8_t* be, unsigned be_len) {
  // Bytes this access touches in the line; byte enables apply to writes only.
  std::fill(m_need.begin(), m_need.end(), 0);
  const uint64_t line_pa = line_no * m_spec.line_bytes;
  if (write && be && be_len) {
    for (unsigned j = lo; j < hi; ++j)
      if (be[(line_pa + j - req_pa) % be_len]) m_need[j / 64] |= 1ull << (j % 64);
  } else {
    for (unsigned w = lo / 64; w * 64 < hi; ++w) m_need[w] = word_mask(w, lo, hi);
  }
  const uint32_t sb = m_spec.sector_bytes;
  uint32_t touched = 0;
  for (unsigned s = 0; s < m_sectors; ++s)
    if (any_bits(m_need.data(), s * sb, (s + 1) * sb)) touched |= 1u << s;
  if (!touched) return;

  int64_t idx = find(line_no);
  const bool was_present = idx >= 0;
  if (!was_present) {
    ++m_out.line_misses;
    const size_t base = (line_no % m_sets) * m_spec.ways;
    size_t victim = base;
    for (size_t i = base; i < base + m_spec.ways; ++i) {
      if (!m_lines[i].used) {
        victim = i;
        break;
      }
      if (m_lines[i].lru < m_lines[victim].lru) victim = i;
    }
    Line& v = m_lines[victim];
    if (v.used) {
      ++s_evictions;
      write_back(v, m_out.writeback);
    }
    v = Line{line_no, 0, 0, 0, true};
    std::fill(written(victim), written(victim) + m_words, 0);
    idx = static_cast<int64_t>(victim);
  }
  Line& l = m_lines[idx];
  uint64_t* wr = written(idx);
  uint32_t fetch = 0;
  for (unsigned s = 0; s < m_sectors; ++s) {
    if (!(touched >> s & 1)) continue;
    const unsigned s0 = s * sb, s1 = s0 + sb;
    const bool valid = l.valid >> s & 1;
    // Hit: the sector was fetched, or (write) holds written bytes, or (read) has every byte it needs.
    const bool hit =
        was_present && (valid || (write ? any_bits(wr, s0, s1) : covers(wr, m_need.data(), s0, s1)));
    if (hit)
      ++m_out.sector_hits;
    else if (was_present)
      ++m_out.sector_misses;
    if (!write && !hit) fetch |= 1u << s;
  }
  if (write) {
    for (unsigned w = 0; w < m_words; ++w) wr[w] |= m_need[w];
    l.dirty |= touched;
    for (unsigned s = 0; s < m_sectors; ++s)  // fully written: readable without a fetch
      if ((touched >> s & 1) && all_bits(wr, s * sb, (s + 1) * sb)) l.valid |= 1u << s;
  } else if (fetch) {
    l.valid |= fetch;
    s_bytes_from_dram += uint64_t(common::popcount32(fetch)) * sb;
    runs(line_no, fetch, m_out.fetch);
  }
  l.lru = ++m_tick;
}

const std::vector<L2Run>& L2CacheCore::flush() {
  m_runs.clear();
  for (Line& l : m_lines)
    if (l.used) write_back(l, m_runs);
  return m_runs;
}

const std::vector<L2Run>& L2CacheCore::invalidate_range(uint64_t pa, uint64_t len, bool writeback) {
  m_runs.clear();
  if (!len) return m_runs;
  const uint64_t end = pa + len - 1 < pa ? ~0ull : pa + len - 1;  // clamp a range past 2^64
  const uint64_t first = pa / m_spec.line_bytes, last = end / m_spec.line_bytes;
  auto drop = [&](Line& l) {
    ++s_invalidated_lines;
    if (writeback)
      write_back(l, m_runs);
    else
      s_dirty_discarded += common::popcount32(l.dirty);
    l = Line{};
  };
  if (last - first >= m_lines.size()) {  // a range larger than the cache: scan the cache
    for (Line& l : m_lines)
      if (l.used && l.line_no >= first && l.line_no <= last) drop(l);
  } else {
    for (uint64_t n = first; n <= last; ++n)
      if (int64_t i = find(n); i >= 0) drop(m_lines[i]);
  }
  return m_runs;
}

void L2CacheCore::invalidate_all() {
  for (Line& l : m_lines)
    if (l.used) {
      ++s_invalidated_lines;
      s_dirty_discarded += common::popcount32(l.dirty);
      l = Line{};
    }
}

bool L2CacheCore::sector_valid(uint64_t pa) const {
  const int64_t i = find(pa / m_spec.line_bytes);
  return i >= 0 && (m_lines[i].valid >> (pa % m_spec.line_bytes / m_spec.sector_bytes) & 1);
}

bool L2CacheCore::sector_dirty(uint64_t pa) const {
  const int64_t i = find(pa / m_spec.line_bytes);
  return i >= 0 && (m_lines[i].dirty >> (pa % m_spec.line_bytes / m_spec.sector_bytes) & 1);
}

}  // namespace hmmsim::hw
