#pragma once
// Reverse map: which (address space, virtual page) entries name a page.
// Migration and eviction use it to unmap every mapping of a page, as
// try_to_migrate() does through the kernel's rmap. The zero page is not
// tracked (it is mapped everywhere and never migrates).
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hmmsim::host {

class AddressSpace;

class Rmap {
 public:
  using Mapping = std::pair<AddressSpace*, uint64_t>;  // (mm, page va)
  void add(uint64_t pfn, AddressSpace* mm, uint64_t va) { m_map[pfn].emplace_back(mm, va); }
  void remove(uint64_t pfn, AddressSpace* mm, uint64_t va) {
    auto it = m_map.find(pfn);
    if (it == m_map.end()) return;
    auto& v = it->second;
    auto m = std::find(v.begin(), v.end(), Mapping{mm, va});
    if (m != v.end()) v.erase(m);
    if (v.empty()) m_map.erase(it);
  }
  // Copy on purpose: callers change mappings while iterating.
  std::vector<Mapping> mappings(uint64_t pfn) const {
    auto it = m_map.find(pfn);
    return it == m_map.end() ? std::vector<Mapping>{} : it->second;
  }
  size_t mapcount(uint64_t pfn) const {
    auto it = m_map.find(pfn);
    return it == m_map.end() ? 0 : it->second.size();
  }

 private:
  std::unordered_map<uint64_t, std::vector<Mapping>> m_map;
};

}  // namespace hmmsim::host
