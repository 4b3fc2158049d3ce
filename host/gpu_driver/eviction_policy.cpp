#include "host/gpu_driver/eviction_policy.h"

#include <iterator>
#include <list>
#include <map>

namespace hmmsim::host {

namespace {

// Blocks in the order they became resident.
class FifoEviction : public IEvictionPolicy {
 public:
  void on_resident(uint64_t block) override {
    if (m_pos.count(block)) return;
    m_pos[block] = m_order.insert(m_order.end(), block);
  }
  void on_empty(uint64_t block) override {
    auto it = m_pos.find(block);
    if (it == m_pos.end()) return;
    m_order.erase(it->second);
    m_pos.erase(it);
  }
  std::optional<uint64_t> victim(uint64_t exclude) override {
    for (uint64_t b : m_order)
      if (b != exclude) return b;
    return std::nullopt;
  }

 protected:
  std::list<uint64_t> m_order;
  std::map<uint64_t, std::list<uint64_t>::iterator> m_pos;
};

// A uniform pick among resident blocks from a seeded xorshift.
class RandomEviction : public FifoEviction {
 public:
  explicit RandomEviction(uint64_t seed) : m_state(seed * 0x9E3779B97F4A7C15ull | 1) {}
  std::optional<uint64_t> victim(uint64_t exclude) override {
    const size_t n = m_order.size() - (m_pos.count(exclude) ? 1 : 0);
    if (n == 0) return std::nullopt;
    m_state ^= m_state << 13;
    m_state ^= m_state >> 7;
    m_state ^= m_state << 17;
    size_t k = m_state % n;
    for (uint64_t b : m_order) {
      if (b == exclude) continue;
      if (k-- == 0) return b;
    }
    return std::nullopt;
  }

 private:
  uint64_t m_state;
};

}  // namespace

EvictionRegistry& eviction_registry() {
  static EvictionRegistry r = [] {
    EvictionRegistry reg("eviction policy");
    reg.add("fifo", [](const EvictionSpec&) { return std::make_unique<FifoEviction>(); });
    reg.add("random", [](const EvictionSpec& s) { return std::make_unique<RandomEviction>(s.seed); });
    return reg;
  }();
  return r;
}

}  // namespace hmmsim::host
