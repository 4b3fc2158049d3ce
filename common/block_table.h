#pragma once
// A sparse array indexed by page number (or frame number), stored in blocks
// of 512 entries: one block per 2 MiB range of 4 KiB pages, allocated when
// its first entry is set and freed when its last is erased. It replaces
// per-page ordered-map nodes (48-80 bytes each, plus the allocator's) on the
// paths that hold one entry per simulated page: a dense range costs
// sizeof(T) per page and a bit, and walks in index order like a map.
#include <cstdint>
#include <map>
#include <memory>
#include <utility>

namespace hmmsim::common {

template <class T>
class BlockTable {
 public:
  static constexpr unsigned kShift = 9;
  static constexpr uint64_t kPerBlock = uint64_t(1) << kShift;
  static constexpr uint64_t kEnd = ~uint64_t(0);

  BlockTable() = default;
  BlockTable(const BlockTable&) = delete;
  BlockTable& operator=(const BlockTable&) = delete;

  // The entry at `i`, or null if none is set.
  const T* find(uint64_t i) const {
    const Block* b = block(i >> kShift);
    const unsigned k = unsigned(i & (kPerBlock - 1));
    return b && b->has(k) ? &b->v[k] : nullptr;
  }
  T* find(uint64_t i) { return const_cast<T*>(std::as_const(*this).find(i)); }
  bool contains(uint64_t i) const { return find(i) != nullptr; }

  // The entry at `i`, set to T{} first if it was not set (map::operator[]).
  T& operator[](uint64_t i) {
    Block* b = block(i >> kShift);
    if (!b) {
      auto& slot = m_blocks[i >> kShift];
      slot = std::make_unique<Block>();
      b = slot.get();
      m_ckey = i >> kShift;
      m_cblk = b;
    }
    const unsigned k = unsigned(i & (kPerBlock - 1));
    if (!b->has(k)) {
      b->used[k >> 6] |= uint64_t(1) << (k & 63);
      ++b->count;
      ++m_size;
    }
    return b->v[k];
  }

  // Unsets `i`; returns whether it was set. References to it dangle after.
  bool erase(uint64_t i) {
    auto it = m_blocks.find(i >> kShift);
    if (it == m_blocks.end()) return false;
    Block& b = *it->second;
    const unsigned k = unsigned(i & (kPerBlock - 1));
    if (!b.has(k)) return false;
    b.used[k >> 6] &= ~(uint64_t(1) << (k & 63));
    b.v[k] = T{};
    --b.count;
    --m_size;
    if (b.count == 0) {
      if (m_cblk == &b) m_cblk = nullptr;
      m_blocks.erase(it);
    }
    return true;
  }

  // The first set index in [i, end), or `end` if there is none.
  uint64_t next(uint64_t i, uint64_t end = kEnd) const {
    for (auto it = m_blocks.lower_bound(i >> kShift); it != m_blocks.end(); ++it) {
      const uint64_t base = it->first << kShift;
      if (base >= end) return end;
      const unsigned from = base >= i ? 0 : unsigned(i - base);
      const uint64_t found = it->second->first_from(from);
      if (found < kPerBlock) return base + found < end ? base + found : end;
    }
    return end;
  }
  bool any_in(uint64_t lo, uint64_t hi) const { return lo < hi && next(lo, hi) < hi; }

  // Calls f(i, T&) for every set entry in [lo, hi), in index order. `f` may
  // set and erase entries: each step looks the next one up afresh, so an
  // entry `f` sets ahead of the walk is visited too.
  template <class F>
  void for_each(uint64_t lo, uint64_t hi, F&& f) {
    for (uint64_t i = next(lo, hi); i < hi; i = i + 1 == 0 ? hi : next(i + 1, hi)) {
      T* v = find(i);
      if (v) f(i, *v);
    }
  }
  template <class F>
  void for_each(uint64_t lo, uint64_t hi, F&& f) const {
    for (uint64_t i = next(lo, hi); i < hi; i = i + 1 == 0 ? hi : next(i + 1, hi)) f(i, *find(i));
  }

  uint64_t size() const { return m_size; }
  bool empty() const { return m_size == 0; }
  void clear() {
    m_blocks.clear();
    m_cblk = nullptr;
    m_size = 0;
  }
  // Heap bytes held by the blocks (for the memory figures in docs/performance.md).
  uint64_t block_bytes() const { return m_blocks.size() * sizeof(Block); }

 private:
  struct Block {
    uint64_t used[kPerBlock / 64] = {};
    uint32_t count = 0;
    T v[kPerBlock] = {};
    bool has(unsigned k) const { return (used[k >> 6] >> (k & 63)) & 1; }
    uint64_t first_from(unsigned from) const {
      for (unsigned w = from >> 6; w < kPerBlock / 64; ++w) {
        uint64_t bits = used[w];
        if (w == from >> 6) bits &= ~uint64_t(0) << (from & 63);
        if (bits) return (uint64_t(w) << 6) + unsigned(__builtin_ctzll(bits));
      }
      return kPerBlock;
    }
  };
  // One block remembered: most lookups fall in the block of the last one.
  Block* block(uint64_t key) const {
    if (m_cblk && m_ckey == key) return m_cblk;
    auto it = m_blocks.find(key);
    if (it == m_blocks.end()) return nullptr;
    m_ckey = key;
    m_cblk = it->second.get();
    return m_cblk;
  }

  std::map<uint64_t, std::unique_ptr<Block>> m_blocks;
  mutable uint64_t m_ckey = 0;
  mutable Block* m_cblk = nullptr;
  uint64_t m_size = 0;
};

}  // namespace hmmsim::common
