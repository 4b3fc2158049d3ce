#include "host/mm/mem_file.h"

namespace hmmsim::host {

MemFile::~MemFile() {
  for (auto& [i, pfn] : m_pages) m_phys.put(pfn);
}

Pfn MemFile::page(uint64_t index) {
  auto it = m_pages.find(index);
  if (it != m_pages.end()) return it->second;
  Pfn pfn = m_phys.alloc();
  if (pfn != kNoPfn) m_pages[index] = pfn;
  return pfn;
}

Pfn MemFile::find(uint64_t index) const {
  auto it = m_pages.find(index);
  return it == m_pages.end() ? kNoPfn : it->second;
}

uint64_t MemFile::writeback() {
  const uint64_t n = m_dirty.size();
  s_writebacks += n;
  m_dirty.clear();
  return n;
}

}  // namespace hmmsim::host
