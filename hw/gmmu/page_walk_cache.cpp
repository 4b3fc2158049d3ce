#include "hw/gmmu/page_walk_cache.h"

#include <stdexcept>

#include "hwref/page_table_format.h"

namespace hmmsim::hw {

namespace pt = hwref::pt;

namespace {

// Fully associative LRU over (level, VA prefix) keys: caches are small
// (tens of entries) and probed only on TLB misses, so a scan is cheap.
class LruStore {
 public:
  explicit LruStore(uint64_t cap) : m_cap(cap) {}
  struct Line {
    unsigned level;
    uint64_t prefix;
    PwcEntry e;
    uint64_t stamp;
  };
  Line* find(unsigned level, uint64_t prefix) {
    for (auto& l : m_lines)
      if (l.level == level && l.prefix == prefix) {
        l.stamp = ++m_tick;
        return &l;
      }
    return nullptr;
  }
  // Returns true if it evicted a line.
  bool fill(unsigned level, uint64_t prefix, const PwcEntry& e) {
    if (m_cap == 0) return false;
    if (Line* l = find(level, prefix)) {
      l->e = e;
      return false;
    }
    if (m_lines.size() < m_cap) {
      m_lines.push_back(Line{level, prefix, e, ++m_tick});
      return false;
    }
    Line* v = &m_lines[0];
    for (auto& l : m_lines)
      if (l.stamp < v->stamp) v = &l;
    *v = Line{level, prefix, e, ++m_tick};
    return true;
  }
  uint64_t invalidate(uint64_t va, uint64_t bytes) {
    uint64_t n = 0;
    for (size_t i = 0; i < m_lines.size();) {
      const Line& l = m_lines[i];
      const unsigned lo = pt::kLevel[l.level].lo_bit;
      const uint64_t base = l.prefix << lo, span = 1ull << lo;
      if (bytes == 0 || (base < va + bytes && va < base + span)) {
        m_lines[i] = m_lines.back();
        m_lines.pop_back();
        ++n;
      } else {
        ++i;
      }
    }
    return n;
  }

 private:
  uint64_t m_cap;
  uint64_t m_tick = 0;
  std::vector<Line> m_lines;
};

// The entry at directory level L for `va` is named by the VA bits above
// that level's index: va >> lo_bit(L).
uint64_t prefix(unsigned level, uint64_t va) { return va >> pt::kLevel[level].lo_bit; }

// LRU caches of directory entries: one per level (per_level), or one that
// every level shares (unified).
class LruPwc : public IPageWalkCache {
 public:
  LruPwc(const PwcSpec& s, bool shared) : m_shared(shared) {
    for (uint64_t e : s.entries) m_store.emplace_back(e);
  }
  int probe(uint64_t va, PwcEntry& out) override {
    for (int l = 3; l >= 0; --l)
      if (auto* line = store(l).find(l, prefix(l, va))) {
        ++s_hits[l];
        out = line->e;
        return l;
      }
    ++s_misses;
    return -1;
  }
  void fill(unsigned level, uint64_t va, const PwcEntry& e) override {
    ++s_fills;
    s_evictions += store(level).fill(level, prefix(level, va), e);
  }
  void invalidate(uint64_t va, uint64_t bytes) override {
    for (auto& s : m_store) s_invalidated += s.invalidate(va, bytes);
  }

 private:
  LruStore& store(unsigned level) { return m_store[m_shared ? 0 : level]; }
  bool m_shared;
  std::vector<LruStore> m_store;
};

class NoPwc : public IPageWalkCache {
 public:
  int probe(uint64_t, PwcEntry&) override {
    ++s_misses;
    return -1;
  }
  void fill(unsigned, uint64_t, const PwcEntry&) override {}
  void invalidate(uint64_t, uint64_t) override {}
};

}  // namespace

std::optional<common::SpecError> PwcSpec::validate() const {
  if (!pwc_registry().has(impl))
    return common::SpecError{"impl", "unknown implementation '" + impl + "'; registered: " + pwc_registry().names_text()};
  if (impl == "per_level" && entries.size() != 4)
    return common::SpecError{"entries", "per_level takes four sizes: [pd3, pd2, pd1, pd0]"};
  if (impl == "unified" && entries.size() != 1)
    return common::SpecError{"entries", "unified takes one size: [n]"};
  for (uint64_t e : entries)
    if (e > 65536) return common::SpecError{"entries", "at most 65536 entries per cache"};
  return std::nullopt;
}

PwcRegistry& pwc_registry() {
  static PwcRegistry r = [] {
    PwcRegistry reg("page-walk cache");
    reg.add("per_level", [](const PwcSpec& s) { return std::make_unique<LruPwc>(s, false); });
    reg.add("unified", [](const PwcSpec& s) { return std::make_unique<LruPwc>(s, true); });
    reg.add("none", [](const PwcSpec&) { return std::make_unique<NoPwc>(); });
    return reg;
  }();
  return r;
}

std::unique_ptr<IPageWalkCache> make_pwc(const PwcSpec& spec) {
  if (auto err = spec.validate()) throw std::invalid_argument("page-walk cache " + err->key + ": " + err->message);
  return pwc_registry().make(spec.impl, spec);
}

}  // namespace hmmsim::hw
