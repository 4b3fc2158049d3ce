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

#include "common/block_table.h"

namespace hmmsim::host {

class AddressSpace;

class Rmap {
 public:
  using Mapping = std::pair<AddressSpace*, uint64_t>;  // (mm, page va)
  // Nearly every page has one mapping: the first lives in a table by frame
  // number (16 bytes a page), the rest, in the order they came, beside it.
  void add(uint64_t pfn, AddressSpace* mm, uint64_t va) {
    if (!m_first.contains(pfn))
      m_first[pfn] = Mapping{mm, va};
    else
      m_more[pfn].emplace_back(mm, va);
  }
  void remove(uint64_t pfn, AddressSpace* mm, uint64_t va) {
    Mapping* first = m_first.find(pfn);
    if (!first) return;
    auto more = m_more.find(pfn);
    if (*first == Mapping{mm, va}) {
      if (more == m_more.end()) {
        m_first.erase(pfn);
        return;
      }
      *first = more->second.front();
      more->second.erase(more->second.begin());
    } else {
      if (more == m_more.end()) return;
      auto& v = more->second;
      auto m = std::find(v.begin(), v.end(), Mapping{mm, va});
      if (m != v.end()) v.erase(m);
    }
    if (more->second.empty()) m_more.erase(more);
  }
  // Copy on purpose: callers change mappings while iterating.
  std::vector<Mapping> mappings(uint64_t pfn) const {
    std::vector<Mapping> out;
    const Mapping* first = m_first.find(pfn);
    if (!first) return out;
    out.push_back(*first);
    auto more = m_more.find(pfn);
    if (more != m_more.end()) out.insert(out.end(), more->second.begin(), more->second.end());
    return out;
  }
  size_t mapcount(uint64_t pfn) const {
    if (!m_first.contains(pfn)) return 0;
    auto more = m_more.find(pfn);
    return 1 + (more == m_more.end() ? 0 : more->second.size());
  }

 private:
  common::BlockTable<Mapping> m_first;
  std::unordered_map<uint64_t, std::vector<Mapping>> m_more;
};

}  // namespace hmmsim::host
