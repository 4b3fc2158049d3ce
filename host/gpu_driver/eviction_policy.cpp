#include "host/gpu_driver/eviction_policy.h"

#include <list>
#include <vector>
#include <unordered_map>

#include "host/gpu_driver/va_block.h"

namespace hmmsim::host {

namespace {

// An ordered set of keys (blocks, pages, basic blocks) with O(1) move-to-back.
class Order {
 public:
  bool has(uint64_t k) const { return m_pos.count(k) != 0; }
  void push_back(uint64_t k) {
    auto it = m_pos.find(k);
    if (it != m_pos.end()) {
      m_list.splice(m_list.end(), m_list, it->second);
      return;
    }
    m_pos.emplace(k, m_list.insert(m_list.end(), k));
  }
  void touch(uint64_t k) {
    auto it = m_pos.find(k);
    if (it != m_pos.end()) m_list.splice(m_list.end(), m_list, it->second);
  }
  void erase(uint64_t k) {
    auto it = m_pos.find(k);
    if (it == m_pos.end()) return;
    m_list.erase(it->second);
    m_pos.erase(it);
  }
  size_t size() const { return m_list.size(); }
  const std::list<uint64_t>& keys() const { return m_list; }

 private:
  std::list<uint64_t> m_list;
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> m_pos;
};

// 2 MiB blocks ordered by first residency (fifo) or by last access (lru).
// Pages are tracked one by one, so a repeated or unknown release is harmless.
class BlockOrder : public IEvictionPolicy {
 public:
  explicit BlockOrder(bool lru) : m_lru(lru) {}
  void on_resident(uint64_t va) override {
    const uint64_t b = block_of(va);
    PageMask& m = m_pages[b];
    if (m.none() || m_lru) m_order.push_back(b);
    m.set(page_in_block(va));
  }
  void on_released(uint64_t va) override {
    const uint64_t b = block_of(va);
    auto it = m_pages.find(b);
    if (it == m_pages.end()) return;
    it->second.reset(page_in_block(va));
    if (it->second.none()) {
      m_pages.erase(it);
      m_order.erase(b);
    }
  }
  bool wants_accesses() const override { return m_lru; }
  void on_access(uint64_t va) override {
    if (m_lru) m_order.touch(block_of(va));
  }
  std::optional<EvictUnit> victim_outside(const Excluded& excluded) override {
    for (uint64_t b : m_order.keys())
      if (!excluded(b)) return EvictUnit{b, kBlockBytes};
    return std::nullopt;
  }

 protected:
  Order m_order;
  std::unordered_map<uint64_t, PageMask> m_pages;  // block -> resident pages

 private:
  bool m_lru;
};

class RandomBlock : public BlockOrder {
 public:
  explicit RandomBlock(uint64_t seed) : BlockOrder(false), m_state(seed * 0x9E3779B97F4A7C15ull | 1) {}
  std::optional<EvictUnit> victim_outside(const Excluded& excluded) override {
    std::vector<uint64_t> can;
    for (uint64_t b : m_order.keys())
      if (!excluded(b)) can.push_back(b);
    if (can.empty()) return std::nullopt;
    m_state ^= m_state << 13;
    m_state ^= m_state >> 7;
    m_state ^= m_state << 17;
    return EvictUnit{can[m_state % can.size()], kBlockBytes};
  }

 private:
  uint64_t m_state;
};

// 4 KiB pages by last access.
class PageLru : public IEvictionPolicy {
 public:
  void on_resident(uint64_t va) override { m_order.push_back(va >> 12); }
  void on_released(uint64_t va) override { m_order.erase(va >> 12); }
  bool wants_accesses() const override { return true; }
  void on_access(uint64_t va) override { m_order.touch(va >> 12); }
  std::optional<EvictUnit> victim_outside(const Excluded& excluded) override {
    for (uint64_t p : m_order.keys())
      if (!excluded(block_of(p << 12))) return EvictUnit{p << 12, 4096};
    return std::nullopt;
  }

 private:
  Order m_order;
};

// UVMSmart's tree-based neighbourhood eviction over 64 KiB basic blocks.
class TreeNeighbourhood : public IEvictionPolicy {
 public:
  explicit TreeNeighbourhood(double t) : m_threshold(t) {}
  void on_resident(uint64_t va) override {
    m_resident[block_of(va)].set(page_in_block(va));
    m_order.push_back(va >> 16);
  }
  void on_released(uint64_t va) override {
    auto it = m_resident.find(block_of(va));
    if (it == m_resident.end()) return;
    it->second.reset(page_in_block(va));
    const size_t big = page_in_block(va) / kBigPagePages * kBigPagePages;
    if ((it->second & page_range(big, kBigPagePages)).none()) m_order.erase(va >> 16);
    if (it->second.none()) m_resident.erase(it);
  }
  bool wants_accesses() const override { return true; }
  void on_access(uint64_t va) override { m_order.touch(va >> 16); }
  std::optional<EvictUnit> victim_outside(const Excluded& excluded) override {
    for (uint64_t bb : m_order.keys()) {
      const uint64_t va = bb << 16, b = block_of(va);
      if (excluded(b)) continue;
      const PageMask& res = m_resident.at(b);
      size_t first = page_in_block(va), n = kBigPagePages;
      while (n < kBlockPages) {
        const size_t pfirst = first / (2 * n) * (2 * n);
        const size_t left = (res & page_range(pfirst, 2 * n)).count() - (res & page_range(first, n)).count();
        if (double(left) >= m_threshold * double(2 * n)) break;
        first = pfirst;
        n *= 2;
      }
      return EvictUnit{b + first * 4096, n * 4096};
    }
    return std::nullopt;
  }

 private:
  double m_threshold;
  Order m_order;                                   // basic blocks (va >> 16) by last access
  std::unordered_map<uint64_t, PageMask> m_resident;  // block -> resident pages
};

}  // namespace

EvictionRegistry& eviction_registry() {
  static EvictionRegistry r = [] {
    EvictionRegistry reg("eviction policy");
    reg.add("fifo", [](const EvictionSpec&) { return std::make_unique<BlockOrder>(false); });
    reg.add("lru", [](const EvictionSpec&) { return std::make_unique<BlockOrder>(true); });
    reg.add("random", [](const EvictionSpec& s) { return std::make_unique<RandomBlock>(s.seed); });
    reg.add("lru4k", [](const EvictionSpec&) { return std::make_unique<PageLru>(); });
    reg.add("tbn", [](const EvictionSpec& s) { return std::make_unique<TreeNeighbourhood>(s.threshold); });
    return reg;
  }();
  return r;
}

}  // namespace hmmsim::host
